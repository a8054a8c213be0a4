#!/usr/bin/env bash
# Regenerates yflink/rpc/protos/*_pb2*.py from the .proto files (needs grpcio-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m grpc_tools.protoc -I . --python_out=. --grpc_python_out=. --pyi_out=. yflink/rpc/protos/gateways.proto

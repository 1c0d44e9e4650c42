# Sourced by the e2e scripts that train on Debian's Fashion-MNIST: skips
# (exit 77, which CTest shows as a skip) where the package is missing, and
# gives $out, a scratch directory removed on exit.
data=/usr/share/datasets/fashion-mnist
[ -f "$data/train-images-idx3-ubyte.gz" ] || {
    echo "skipped: $data is missing (apt-get install dataset-fashion-mnist)"
    exit 77
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

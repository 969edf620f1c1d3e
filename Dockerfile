# syntax=docker/dockerfile:1
# quotabench image: `docker build -t quotabench .`, then
#   docker run --rm -v "$PWD/reports:/reports" quotabench run scenarios/conformance/adobe-hygiene.yaml --out /reports
# The image used by deploy/kubernetes/ and the CI matrix example (docs/distributed.md).

ARG RUST_VERSION=1.95
ARG DEBIAN=bookworm

# ---- builder ---------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN} AS builder
WORKDIR /src

# Dependencies first, in their own layer: the manifests, the lock file and stub
# sources for every target cargo's manifests name. This layer is rebuilt only when a
# Cargo.toml or Cargo.lock changes, not on every source edit.
COPY Cargo.toml Cargo.lock ./
COPY crates/fake/Cargo.toml crates/fake/Cargo.toml
COPY crates/yaml/Cargo.toml crates/yaml/Cargo.toml
RUN mkdir -p src benches crates/fake/src crates/fake/benches crates/fake/tests/fake crates/yaml/src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs crates/fake/src/lib.rs crates/yaml/src/lib.rs \
 && for f in benches/engine_hot.rs benches/check_history.rs crates/fake/benches/fake_handle.rs crates/fake/tests/fake/main.rs; do echo 'fn main() {}' > "$f"; done \
 && cargo build --release --locked --bin quotabench \
 && rm -rf src crates/fake/src crates/yaml/src

# The sources. Touch them so cargo rebuilds the workspace crates over the stubs'
# artefacts (a copied file may carry an older mtime than the stub build).
COPY src src
COPY crates/fake/src crates/fake/src
COPY crates/yaml/src crates/yaml/src
# include_str! reads the built-in profiles at compile time.
COPY profiles profiles
RUN find src crates -name '*.rs' -exec touch {} + \
 && cargo build --release --locked --bin quotabench \
 && install -Dm755 target/release/quotabench /out/quotabench

# ---- runtime ---------------------------------------------------------------------
FROM debian:${DEBIAN}-slim AS runtime
# ca-certificates: the platform's roots for https:// targets (SSL_CERT_FILE and
# --ca add to them). Nothing else: the binary links only glibc and libgcc.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /opt/quotabench --shell /usr/sbin/nologin quotabench
COPY --from=builder /out/quotabench /usr/local/bin/quotabench
# The suites, profiles and quota tables, so `run scenarios/…` works as in the repository.
WORKDIR /opt/quotabench
COPY --chown=root:root scenarios scenarios
COPY --chown=root:root profiles profiles
COPY --chown=root:root mocks mocks
# Run folders go to /reports by default in the examples (mount a volume there);
# ./reports stays writable for `--out reports`.
RUN mkdir -p /reports reports && chown quotabench:quotabench /reports reports
USER 10001:10001
ENTRYPOINT ["quotabench"]
CMD ["--help"]

# Placer: a small static image for `placer run`.
#
#   docker build -t placer:latest .
#
# Stage 1 builds a fully static binary against musl (Rust on Alpine links statically by
# default; `ring` needs a C compiler and musl headers). Stage 2 is `scratch`: the binary and
# nothing else — no shell, no libc, no CA bundle (in-cluster clients use the service
# account's CA). Runs as a non-root user.

FROM rust:1.89-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
# Dependencies first, so that source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY sched-core/Cargo.toml sched-core/
COPY sched-plugins/Cargo.toml sched-plugins/
COPY simulator/Cargo.toml simulator/
COPY sched-bin/Cargo.toml sched-bin/
COPY benches/Cargo.toml benches/
COPY tests/Cargo.toml tests/
COPY plugins-contrib/gpu-share/Cargo.toml plugins-contrib/gpu-share/
COPY .cargo .cargo
RUN for d in sched-core sched-plugins simulator benches tests plugins-contrib/gpu-share; do mkdir -p $d/src && echo "" > $d/src/lib.rs; done \
 && mkdir -p sched-bin/src && echo "fn main() {}" > sched-bin/src/main.rs && echo "" > sched-bin/src/lib.rs \
 && cargo build --release -p sched-bin --locked || true
COPY sched-core sched-core
COPY sched-plugins sched-plugins
COPY simulator simulator
COPY sched-bin sched-bin
COPY benches benches
COPY tests tests
COPY plugins-contrib plugins-contrib
# The OpenB sample, for `placer sweep --openb /examples/data/openb` (e.g. an Indexed Job).
COPY examples/data/openb examples/data/openb
# Make cargo see the real sources as newer than the placeholders.
RUN find sched-core sched-plugins simulator sched-bin benches tests plugins-contrib -name '*.rs' -exec touch {} + \
 && cargo build --release -p sched-bin --locked \
 && strip target/release/placer \
 && ldd target/release/placer 2>&1 | grep -q 'not a dynamic executable\|statically linked'

FROM scratch
COPY --from=build /src/target/release/placer /placer
COPY --from=build /src/examples/data/openb /examples/data/openb
USER 65532:65532
EXPOSE 10259
ENTRYPOINT ["/placer"]
CMD ["run", "--config", "/etc/placer/config.yaml"]

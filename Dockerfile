# Herald's image: a static musl `herald` and the shipped providers, nothing else.
#   docker build -t herald .
# `herald agent --provider equinix-annotations.wasm` finds the provider by name in
# /usr/lib/herald/providers. The build stage runs the documented dist command (scripts/dist);
# host/herald/tests/dist.rs checks that every path copied below exists in its output.

FROM docker.io/library/rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# After the COPY: rust-toolchain.toml picks the toolchain, and the targets go to that one.
RUN rustup target add x86_64-unknown-linux-musl wasm32-wasip2 \
 && scripts/dist --target x86_64-unknown-linux-musl --out /dist

# distroless/static: no shell, no libc; CA roots are compiled into herald (webpki-roots).
FROM gcr.io/distroless/static-debian12
COPY --from=build /dist/bin/herald /usr/bin/herald
COPY --from=build /dist/lib/herald/providers/ /usr/lib/herald/providers/
COPY --from=build /dist/SHA256SUMS /usr/share/herald/SHA256SUMS
ENTRYPOINT ["/usr/bin/herald"]
CMD ["agent"]

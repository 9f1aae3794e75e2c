# Build stage: a release binary with everything (templates, assets, migrations) embedded.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin vbdash

# Run stage: the binary alone on a small Debian, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/vbdash --create-home vbdash
COPY --from=build /src/target/release/vbdash /usr/local/bin/vbdash
USER vbdash
WORKDIR /var/lib/vbdash
EXPOSE 8080
ENTRYPOINT ["vbdash"]
CMD ["serve", "--config", "/etc/vbdash/vbdash.toml"]

# intake: a small, non-root image with the one static binary.
#
#   docker compose build          (docker-compose.yml builds it)
#   docker build -t intake .
#
# The scripts and texts are embedded in the binary; docker-compose.yml mounts flows/ and
# locales/ over them so the support officer's edits apply without a rebuild.

# --- build: a static binary, without cgo, with no paths of the build machine in it -------
FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so a code change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/intake ./cmd/intake

# --- run: distroless static (no shell, no package manager), as the nonroot user ---------
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/intake /intake
USER nonroot:nonroot
# Inside the container the service listens on every interface; docker-compose.yml
# publishes the ports on the host's loopback only.
ENV INTAKE_HTTP_ADDR=0.0.0.0:8080 \
    INTAKE_ADMIN_ADDR=0.0.0.0:9090
EXPOSE 8080 9090
# No curl in the image: intake asks itself (/readyz on the admin address).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/intake", "health"]
# SIGTERM stops it gracefully within INTAKE_SHUTDOWN_GRACE (default 20s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/intake"]
CMD ["serve"]

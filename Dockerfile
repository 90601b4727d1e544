# nodediag's MCP server as a container image, for machines with Docker; nodediag-agent, the
# capture agent the chart's DaemonSet runs, sits beside it:
#
#   docker build -t nodediag --build-arg VERSION=$(git describe --tags --always) .
#
# Without Docker, bench/image.sh builds the same image (internal/image, whose test checks that
# this file's ENTRYPOINT, CMD, USER, ENV, WORKDIR and EXPOSE say what that image's config says).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/nodediag/nodediag/internal/buildinfo.Version=${VERSION}" \
      -o /out/nodediag ./cmd/nodediag \
 && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/nodediag/nodediag/internal/buildinfo.Version=${VERSION}" \
      -o /out/nodediag-agent ./cmd/nodediag-agent \
 && mkdir -p /out/state

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=
LABEL org.opencontainers.image.title="nodediag" \
      org.opencontainers.image.description="Diagnoses Kubernetes crash loops from worker-node log bundles; serves MCP over HTTP" \
      org.opencontainers.image.source="https://github.com/nodediag/nodediag" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build --chown=65532:65532 --chmod=0755 /out/nodediag /nodediag
COPY --from=build --chown=65532:65532 --chmod=0755 /out/nodediag-agent /nodediag-agent
# The store of imported bundles: the only place the server writes, so the root filesystem can be
# read-only with a volume here.
COPY --from=build --chown=65532:65532 /out/state /var/lib/nodediag
ENV PATH=/ HOME=/var/lib/nodediag XDG_CACHE_HOME=/var/lib/nodediag
WORKDIR /var/lib/nodediag
USER 65532:65532
EXPOSE 8080
VOLUME /var/lib/nodediag
ENTRYPOINT ["/nodediag"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--auth-token-file", "/var/run/nodediag/token"]

# syntax=docker/dockerfile:1
# The Portal, published framework-dependent (see docs/adr/0053) onto the ASP.NET Core runtime image,
# running as a non-root user. Build from the repository root:  docker build -t cogrion-portal .
# (No Docker engine runs on our build machines; this file is kept simple and reviewed by hand.)

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so source edits reuse the restore layer.
COPY global.json Directory.Build.props Directory.Packages.props Portal.sln ./
COPY Portal/Portal.csproj Portal/
COPY Portal.Sandbox/Portal.Sandbox.csproj Portal.Sandbox/
COPY Portal.Lifeline/Portal.Lifeline.csproj Portal.Lifeline/
COPY Portal.Agent.Protocol/Portal.Agent.Protocol.csproj Portal.Agent.Protocol/
COPY Portal.Sandbox.Cluster/Portal.Sandbox.Cluster.csproj Portal.Sandbox.Cluster/
COPY Portal.Kubernetes/Portal.Kubernetes.csproj Portal.Kubernetes/
RUN dotnet restore Portal/Portal.csproj
COPY Portal/ Portal/
# The sandbox cloud's tofu simulator, published next to the Portal as /app/tofu-sandbox (docs/sandbox.md).
COPY Portal.Sandbox/ Portal.Sandbox/
# The lifeline every child process runs under, so none outlives the Portal: /app/cogrion-lifeline (docs/adr/0060).
COPY Portal.Lifeline/ Portal.Lifeline/
COPY Portal.Agent.Protocol/ Portal.Agent.Protocol/
# The sandbox workspaces' simulated Kubernetes, published next to the Portal as /app/sandbox-cluster (docs/sandbox.md).
COPY Portal.Sandbox.Cluster/ Portal.Sandbox.Cluster/
COPY Portal.Kubernetes/ Portal.Kubernetes/
COPY wwwroot-assets/ wwwroot-assets/
COPY terraform/ terraform/
COPY catalog/ catalog/
RUN dotnet publish Portal/Portal.csproj -c Release --no-restore -o /app

# Framework-dependent: the runtime comes from Microsoft's image, so a runtime security fix is a
# rebuild on the patched base image (the tag follows 10.0 patches), with no change to our build.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-bookworm-slim AS runtime
WORKDIR /app
COPY --from=build --chown=root:root /app ./
# The image's unprivileged 'app' user (uid 1654); the files stay root-owned and read-only to it.
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/app/Portal", "healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/app/Portal"]

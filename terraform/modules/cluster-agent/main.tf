# The Cluster Agent, installed once by the provisioning run. After this, Cogrion never needs the
# Kubernetes API again: the agent calls out to the Portal for instructions (pull only).
#
# What the agent may do, and why (least privilege, reviewed as one file):
#   - in its own namespace: read/write the one Secret that holds its key, and patch its own Deployment
#     (self-upgrade);
#   - cluster-wide reads for the inventory it reports: nodes, namespaces, the server version;
#   - create namespaces for tenant apps, and bind the namespaced "app manager" role inside them;
#   - delete namespaces (app removal, and its own namespace for uninstall).
# Residual risk, written down on purpose: RBAC cannot say "only namespaces the agent created", so the
# agent could bind its app-manager role, or delete, in any namespace. The planned hardening is a
# ValidatingAdmissionPolicy that limits the agent's service account to namespaces labelled
# app.kubernetes.io/managed-by=cogrion-agent (see docs/module-interface.md, "Known limits").

locals {
  namespace = "cogrion-agent"
  name      = "cogrion-agent"

  labels = {
    "app.kubernetes.io/name"       = "cogrion-agent"
    "app.kubernetes.io/part-of"    = "cogrion"
    "app.kubernetes.io/managed-by" = "opentofu"
    "cogrion.io/tenant-id"         = var.tenant_id
    "cogrion.io/workspace-id"      = var.workspace_id
  }

  selector = { "app.kubernetes.io/name" = "cogrion-agent" }

  # The bootstrap token is mounted as a file, not an environment variable: environment variables end
  # up in process listings, crash dumps and `kubectl describe` output.
  token_directory = "/var/run/cogrion/bootstrap"
}

resource "kubernetes_namespace_v1" "agent" {
  metadata {
    name = local.namespace
    labels = merge(var.namespace_labels, local.labels, {
      # The agent needs nothing a "restricted" pod cannot have; enforce it.
      "pod-security.kubernetes.io/enforce" = "restricted"
      "pod-security.kubernetes.io/audit"   = "restricted"
      "pod-security.kubernetes.io/warn"    = "restricted"
    })
  }
}

resource "kubernetes_service_account_v1" "agent" {
  metadata {
    name        = local.name
    namespace   = kubernetes_namespace_v1.agent.metadata[0].name
    labels      = local.labels
    annotations = var.service_account_annotations
  }
}

resource "kubernetes_secret_v1" "bootstrap_token" {
  metadata {
    name      = "cogrion-agent-bootstrap"
    namespace = kubernetes_namespace_v1.agent.metadata[0].name
    labels    = local.labels
  }

  type = "Opaque"
  data = {
    token = var.bootstrap_token
  }

  lifecycle {
    # The token is single-use: it matters only at the agent's first start. Later runs (updates, drift
    # checks) must not rewrite it, so a fresh or placeholder value from the Portal changes nothing.
    ignore_changes = [data]
  }
}

# --- Its own namespace -------------------------------------------------------------------------

resource "kubernetes_role_v1" "self" {
  metadata {
    name      = "cogrion-agent-self"
    namespace = kubernetes_namespace_v1.agent.metadata[0].name
    labels    = local.labels
  }

  # The agent keeps the key it registered with in this Secret (created on first start).
  rule {
    api_groups = [""]
    resources  = ["secrets"]
    verbs      = ["create"]
  }
  rule {
    api_groups     = [""]
    resources      = ["secrets"]
    resource_names = ["cogrion-agent-identity"]
    verbs          = ["get", "update", "patch"]
  }
  # Self-upgrade: change its own image, nothing else in the namespace.
  rule {
    api_groups     = ["apps"]
    resources      = ["deployments"]
    resource_names = [local.name]
    verbs          = ["get", "patch"]
  }
}

resource "kubernetes_role_binding_v1" "self" {
  metadata {
    name      = "cogrion-agent-self"
    namespace = kubernetes_namespace_v1.agent.metadata[0].name
    labels    = local.labels
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.self.metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.agent.metadata[0].name
    namespace = kubernetes_namespace_v1.agent.metadata[0].name
  }
}

# --- Cluster-wide: inventory and app namespaces --------------------------------------------------

resource "kubernetes_cluster_role_v1" "agent" {
  metadata {
    name   = "cogrion-agent"
    labels = local.labels
  }

  # Inventory for heartbeats: nodes and capacity, namespaces, the server version.
  rule {
    api_groups = [""]
    resources  = ["nodes", "namespaces"]
    verbs      = ["get", "list", "watch"]
  }
  rule {
    non_resource_urls = ["/version", "/healthz"]
    verbs             = ["get"]
  }
  # Each tenant app gets a namespace of its own; removing the app removes it.
  rule {
    api_groups = [""]
    resources  = ["namespaces"]
    verbs      = ["create", "delete", "patch"]
  }
  # Grant the app-manager role inside an app namespace, and only that role ("bind" is limited to it).
  rule {
    api_groups = ["rbac.authorization.k8s.io"]
    resources  = ["rolebindings"]
    verbs      = ["get", "list", "create", "delete"]
  }
  rule {
    api_groups     = ["rbac.authorization.k8s.io"]
    resources      = ["clusterroles"]
    resource_names = [kubernetes_cluster_role_v1.app_manager.metadata[0].name]
    verbs          = ["bind"]
  }
}

resource "kubernetes_cluster_role_binding_v1" "agent" {
  metadata {
    name   = "cogrion-agent"
    labels = local.labels
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.agent.metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.agent.metadata[0].name
    namespace = kubernetes_namespace_v1.agent.metadata[0].name
  }
}

# Never bound cluster-wide: the agent binds it with a RoleBinding inside each app namespace it creates.
# The list is what the catalog's charts (Airflow, JupyterHub, ...) create; no cluster-scoped objects,
# no nodes, no privileged pods (the app namespaces enforce the "baseline" or "restricted" profile).
resource "kubernetes_cluster_role_v1" "app_manager" {
  metadata {
    name   = "cogrion-agent-app-manager"
    labels = local.labels
  }

  rule {
    api_groups = [""]
    resources  = ["configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims", "pods", "pods/log", "events"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  rule {
    api_groups = ["apps"]
    resources  = ["deployments", "statefulsets", "replicasets"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  rule {
    api_groups = ["batch"]
    resources  = ["jobs", "cronjobs"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  rule {
    api_groups = ["networking.k8s.io"]
    resources  = ["ingresses", "networkpolicies"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  rule {
    api_groups = ["policy"]
    resources  = ["poddisruptionbudgets"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  rule {
    api_groups = ["autoscaling"]
    resources  = ["horizontalpodautoscalers"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
  # Charts create Roles for their own components; Kubernetes refuses any Role that grants more than
  # the agent holds in that namespace (RBAC escalation check), so this cannot widen its rights.
  rule {
    api_groups = ["rbac.authorization.k8s.io"]
    resources  = ["roles", "rolebindings"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }
}

# --- The agent itself ----------------------------------------------------------------------------

resource "kubernetes_deployment_v1" "agent" {
  metadata {
    name      = local.name
    namespace = kubernetes_namespace_v1.agent.metadata[0].name
    labels    = local.labels
  }

  # The agent upgrades itself by patching the image; the next run must not roll it back.
  lifecycle {
    ignore_changes = [spec[0].template[0].spec[0].container[0].image]
  }

  # Installing is "started", not "healthy": the run must not fail because the Portal is briefly away.
  wait_for_rollout = false

  spec {
    # One agent per cluster: it holds a single registration and long-polls the Portal.
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = local.selector
    }

    template {
      metadata {
        labels = local.labels
      }

      spec {
        service_account_name            = kubernetes_service_account_v1.agent.metadata[0].name
        automount_service_account_token = true

        security_context {
          run_as_non_root = true
          run_as_user     = 1654
          run_as_group    = 1654
          fs_group        = 1654
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }

        container {
          name              = "agent"
          image             = var.agent_image
          image_pull_policy = "IfNotPresent"

          env {
            name  = "PORTAL_URL"
            value = var.portal_url
          }
          # The same URL under the name the agent's .NET configuration binds (Agent:PortalUrl).
          env {
            name  = "Agent__PortalUrl"
            value = var.portal_url
          }
          env {
            name  = "Agent__BootstrapTokenFile"
            value = "${local.token_directory}/token"
          }
          env {
            name  = "Agent__StateDirectory"
            value = "/var/lib/cogrion-agent"
          }

          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }

          resources {
            requests = {
              cpu    = "50m"
              memory = "64Mi"
            }
            limits = {
              memory = "256Mi"
            }
          }

          volume_mount {
            name       = "bootstrap-token"
            mount_path = local.token_directory
            read_only  = true
          }
          volume_mount {
            name       = "state"
            mount_path = "/var/lib/cogrion-agent"
          }
          volume_mount {
            name       = "tmp"
            mount_path = "/tmp"
          }
        }

        volume {
          name = "bootstrap-token"
          secret {
            secret_name  = kubernetes_secret_v1.bootstrap_token.metadata[0].name
            default_mode = "0400"
            # Optional: the agent may delete the Secret once it has registered.
            optional = true
          }
        }
        volume {
          name = "state"
          empty_dir {}
        }
        volume {
          name = "tmp"
          empty_dir {}
        }
      }
    }
  }
}

# Nothing needs to connect to the agent. Enforced where the cluster's network plugin enforces
# NetworkPolicy (EKS with network policy enabled in the VPC CNI; ACK with Terway); harmless elsewhere.
resource "kubernetes_network_policy_v1" "deny_ingress" {
  metadata {
    name      = "cogrion-agent-deny-ingress"
    namespace = kubernetes_namespace_v1.agent.metadata[0].name
    labels    = local.labels
  }
  spec {
    pod_selector {}
    policy_types = ["Ingress"]
  }
}

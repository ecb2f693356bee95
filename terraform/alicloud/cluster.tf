# ACK Pro managed cluster and its node pools: provider resources, because the collection's
# managed-kubernetes module still uses the worker_* arguments the provider removed in 1.212.

# ACK wants an exact version ("1.31.1-aliyun.1"); the interface carries major.minor like EKS, so the
# newest patch of that minor the region offers is picked here.
data "alicloud_cs_kubernetes_version" "this" {
  cluster_type = "ManagedKubernetes"
  profile      = "Default"
}

locals {
  ack_versions = [for item in data.alicloud_cs_kubernetes_version.this.metadata : item.version if startswith(item.version, "${var.kubernetes_version}.")]
  # Versions compare by their patch number, not as text ("1.31.10" > "1.31.9").
  ack_patch   = length(local.ack_versions) == 0 ? -1 : max([for version in local.ack_versions : tonumber(split(".", split("-", version)[0])[2])]...)
  ack_version = try([for version in local.ack_versions : version if tonumber(split(".", split("-", version)[0])[2]) == local.ack_patch][0], null)

  # Pod and service ranges must not overlap the VPC. The workspace network is private (RFC 1918), so
  # take them from a private block the network is not in.
  network_in_ten = startswith(var.network_cidr, "10.")
  pod_cidr       = local.network_in_ten ? "172.20.0.0/16" : "10.240.0.0/16"
  service_cidr   = local.network_in_ten ? "172.21.0.0/20" : "10.241.0.0/20"

  # The API server's public URL. The provider's schema declares `connections` as a map in older 1.2xx
  # releases and as a one-element list of objects in the current source (with disable_encryption);
  # read either shape so a provider upgrade inside the pinned range cannot break the outputs.
  api_server_internet = try(
    alicloud_cs_managed_kubernetes.this.connections[0].api_server_internet,
    alicloud_cs_managed_kubernetes.this.connections.api_server_internet,
  )
}

resource "terraform_data" "kubernetes_version_guard" {
  input = var.kubernetes_version

  lifecycle {
    precondition {
      condition     = local.ack_version != null
      error_message = "ACK offers no ${var.kubernetes_version}.x release in ${var.region}; choose another Kubernetes version."
    }
  }
}

resource "alicloud_cs_managed_kubernetes" "this" {
  name         = local.name
  cluster_spec = "ack.pro.small"
  version      = local.ack_version

  vswitch_ids     = local.private_vswitch_ids
  new_nat_gateway = false # ours, above
  pod_cidr        = local.pod_cidr
  service_cidr    = local.service_cidr
  proxy_mode      = "ipvs"

  # The API server gets an internet load balancer for the provisioning runner (installing and
  # upgrading the agent); see README "Known limits" on restricting it to api_allowed_cidrs.
  slb_internet_enabled = true

  # A security group that denies by default between instances.
  is_enterprise_security_group = true

  deletion_protection = var.deletion_protection

  # Kubernetes Secrets encrypted with the workspace's KMS key.
  encryption_provider_key = alicloud_kms_key.this.id
  disable_encryption      = false

  # RAM roles for service accounts (RRSA), AliCloud's IRSA: see ram.tf.
  enable_rrsa = true

  # Keep the cluster CA and client keys out of the resource's state; the kubernetes provider gets a
  # short-lived credential instead (providers.tf).
  skip_set_certificate_authority = true

  # Control plane and audit logs in the tenant's own Log Service, 90 days.
  control_plane_log_components = ["apiserver", "kcm", "scheduler", "ccm"]
  control_plane_log_ttl        = "90"
  audit_log_config {
    enabled = true
  }

  addons {
    name = "flannel"
  }
  addons {
    name = "csi-plugin"
  }
  addons {
    name = "managed-csiprovisioner"
  }
  # Injects RRSA credentials into pods whose service account names a RAM role (the agent's).
  addons {
    name = "ack-pod-identity-webhook"
  }
  # No ingress controller by default: exposing anything is an app's decision, not the workspace's.
  addons {
    name     = "nginx-ingress-controller"
    disabled = true
  }

  tags = local.tags

  # Nodes need outbound internet while they bootstrap.
  depends_on = [alicloud_snat_entry.private, terraform_data.kubernetes_version_guard]
}

resource "alicloud_cs_kubernetes_node_pool" "this" {
  for_each = local.node_pools

  cluster_id     = alicloud_cs_managed_kubernetes.this.id
  node_pool_name = "${var.workspace_name}-${each.key}"
  vswitch_ids    = local.private_vswitch_ids
  instance_types = [each.value.instance_type]
  image_type     = "AliyunLinux3"

  system_disk_category  = "cloud_essd"
  system_disk_size      = 120
  system_disk_encrypted = true
  system_disk_kms_key   = alicloud_kms_key.this.id

  # A pool with min_size == max_size is a fixed-size pool; otherwise ACK's autoscaler scales it.
  # (ACK keeps system pods such as CoreDNS off autoscaled nodes, so give at least one pool a fixed size.)
  desired_size = each.value.min_size == each.value.max_size ? each.value.min_size : null

  dynamic "scaling_config" {
    for_each = each.value.min_size == each.value.max_size ? [] : [each.value]
    content {
      enable   = true
      min_size = scaling_config.value.min_size
      max_size = scaling_config.value.max_size
    }
  }

  labels {
    key   = "cogrion.io/node-pool"
    value = each.key
  }

  # Managed node pool: ACK repairs failed nodes and fixes OS CVEs (auto_vul_fix; without it a managed
  # pool only repairs). Kubelet upgrades stay with the Portal's runs (auto_upgrade = false), so the
  # nodes never move ahead of the Kubernetes version the workspace asked for.
  management {
    enable       = true
    auto_repair  = true
    auto_upgrade = false
    auto_vul_fix = true
  }

  tags = local.tags
}

# Cogrion workspace on AliCloud: VPC with VSwitches in two or three zones and an enhanced NAT gateway,
# an ACK Pro managed cluster with node pools, RAM roles for service accounts (RRSA), the optional RDS
# or PolarDB database, and the Cluster Agent. The state bucket is made by ./bootstrap, first.

data "alicloud_account" "current" {}

data "alicloud_regions" "current" {
  current = true
}

# Zones where an enhanced NAT gateway can be created; ACK and RDS are offered in these too.
data "alicloud_enhanced_nat_available_zones" "this" {}

locals {
  name = "cogrion-${var.workspace_name}"

  # Tag keys spelled as on AWS, so the tenant's cost and audit queries are the same on both clouds.
  tags = {
    "cogrion-tenant-id"    = var.tenant_id
    "cogrion-workspace-id" = var.workspace_id
    "cogrion-workspace"    = var.workspace_name
    "cogrion-managed-by"   = "cogrion-portal"
  }

  zone_ids   = slice([for zone in data.alicloud_enhanced_nat_available_zones.this.zones : zone.zone_id], 0, min(3, length(data.alicloud_enhanced_nat_available_zones.this.zones)))
  zone_count = length(local.zone_ids)

  # Same cut as on AWS: three quarters for private VSwitches (nodes, pods, database), the last quarter
  # split again for small public VSwitches (the NAT gateway, internet-facing load balancers).
  private_cidrs = [for index in range(local.zone_count) : cidrsubnet(var.network_cidr, 2, index)]
  public_cidrs  = [for index in range(local.zone_count) : cidrsubnet(cidrsubnet(var.network_cidr, 2, 3), 2, index)]

  node_pools = { for pool in var.node_pools : pool.name => pool }
}

# The root module configures the provider's region; fail before anything is created if it differs
# from the workspace's, or if the region cannot host a zone-redundant workspace.
resource "terraform_data" "region_guard" {
  input = var.region

  lifecycle {
    precondition {
      condition     = data.alicloud_regions.current.regions[0].id == var.region
      error_message = "The alicloud provider is configured for ${data.alicloud_regions.current.regions[0].id} but the workspace's region is ${var.region}."
    }
    precondition {
      condition     = local.zone_count >= 2
      error_message = "The region ${var.region} offers fewer than two zones with enhanced NAT gateways."
    }
  }
}

# One customer-managed key for the workspace: Kubernetes Secrets, node disks and the database.
# Creating it needs KMS activated in the account (see README, "Before the first run").
resource "alicloud_kms_key" "this" {
  description            = "Cogrion workspace ${var.workspace_name}: Kubernetes Secrets, node disks, database"
  key_usage              = "ENCRYPT/DECRYPT"
  key_spec               = "Aliyun_AES_256"
  protection_level       = "SOFTWARE"
  automatic_rotation     = "Enabled"
  rotation_interval      = "31536000s"
  pending_window_in_days = 30
  tags                   = local.tags
}

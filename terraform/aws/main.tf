# Cogrion workspace on AWS: VPC (public and private subnets in three availability zones, NAT),
# EKS with managed node groups (and Karpenter when asked), IAM roles for service accounts, the
# optional RDS database, and the Cluster Agent. The state bucket is made by ./bootstrap, first.

data "aws_region" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
  # Opt-in zones (Local Zones, Wavelength) lack EKS and NAT gateways.
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  name = "cogrion-${var.workspace_name}"

  # Every resource carries these (AWS tag keys allow the same spelling as AliCloud's, which keeps
  # the tenant's cost and audit queries identical across clouds).
  tags = {
    "cogrion-tenant-id"    = var.tenant_id
    "cogrion-workspace-id" = var.workspace_id
    "cogrion-workspace"    = var.workspace_name
    "cogrion-managed-by"   = "cogrion-portal"
  }

  azs = slice(data.aws_availability_zones.available.names, 0, 3)

  # The network is cut in four quarters: three private subnets (nodes, pods through the VPC CNI,
  # the database, internal load balancers) and the fourth quarter split again for three small public
  # subnets (NAT gateways and internet-facing load balancers only). For a /16: three /18 private,
  # three /20 public; for a /20: three /22 private, three /24 public.
  private_subnets = [for index in range(3) : cidrsubnet(var.network_cidr, 2, index)]
  public_subnets  = [for index in range(3) : cidrsubnet(cidrsubnet(var.network_cidr, 2, 3), 2, index)]

  node_pools = { for pool in var.node_pools : pool.name => pool }
}

# The root module configures the provider's region; a workspace recorded in one region but planned
# in another would create a second, orphaned stack. Fail before anything is created.
resource "terraform_data" "region_guard" {
  input = var.region

  lifecycle {
    precondition {
      condition     = data.aws_region.current.name == var.region
      error_message = "The aws provider is configured for ${data.aws_region.current.name} but the workspace's region is ${var.region}."
    }
    precondition {
      condition     = length(data.aws_availability_zones.available.names) >= 3
      error_message = "The region ${var.region} has fewer than three availability zones available to this account."
    }
  }
}

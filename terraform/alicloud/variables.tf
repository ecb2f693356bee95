# The module's interface. terraform/aws declares exactly the same variables (names, types and
# meanings); only the provider-specific validations differ. The Portal writes these values
# (Portal/Features/Workspaces/Modules/ModuleVariables.cs) and Portal.Tests/Workspaces/
# Modules/ModuleContractTests.cs fails the build if the two sides drift apart. See docs/module-interface.md.

variable "tenant_id" {
  description = "The Portal's id (UUID) of the tenant that owns this workspace. Tagged on every resource as cogrion-tenant-id."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.tenant_id))
    error_message = "tenant_id must be a lowercase UUID, e.g. 3f2b6c1e-8d4a-4e7b-9c0d-1a2b3c4d5e6f."
  }
}

variable "workspace_id" {
  description = "The Portal's id (UUID) of this workspace. Tagged on every resource as cogrion-workspace-id."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.workspace_id))
    error_message = "workspace_id must be a lowercase UUID."
  }
}

variable "workspace_name" {
  description = "The workspace's name: a DNS label, unique in the tenant. Resource names are derived from it (cogrion-<name>)."
  type        = string
  nullable    = false

  validation {
    # 32 characters at most so that derived names (IAM roles, RDS identifiers, queues) stay in limits.
    condition     = can(regex("^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$", var.workspace_name))
    error_message = "workspace_name must be a DNS label of 1 to 32 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "region" {
  description = "The cloud region of the workspace. Must equal the region the root module configures the provider with (checked)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z0-9-]*[a-z0-9]$", var.region))
    error_message = "region must be an AliCloud region id such as eu-central-1 or cn-hangzhou."
  }
}

variable "network_cidr" {
  description = "The workspace network's IPv4 CIDR: a private range (RFC 1918) with a prefix from /16 to /20. Split into private and public subnets across availability zones."
  type        = string
  nullable    = false

  validation {
    # try(): OpenTofu's && does not short-circuit, so a malformed value must not reach cidrhost().
    condition     = try(cidrhost(var.network_cidr, 0) == split("/", var.network_cidr)[0], false)
    error_message = "network_cidr must be a valid IPv4 CIDR whose address is the network address (e.g. 10.20.0.0/16, not 10.20.1.0/16)."
  }
  validation {
    condition     = try(tonumber(split("/", var.network_cidr)[1]) >= 16 && tonumber(split("/", var.network_cidr)[1]) <= 20, false)
    error_message = "network_cidr must have a prefix length from /16 to /20."
  }
  validation {
    # RFC 1918: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (the prefix is at least /16, so the
    # first two octets decide).
    condition = try(
      startswith(var.network_cidr, "10.") ||
      (startswith(var.network_cidr, "172.") && tonumber(split(".", var.network_cidr)[1]) >= 16 && tonumber(split(".", var.network_cidr)[1]) <= 31) ||
      startswith(var.network_cidr, "192.168."),
      false
    )
    error_message = "network_cidr must be inside a private range: 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster, as major.minor (e.g. 1.31). The provider picks the patch release."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^1\\.(2[89]|3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be major.minor from 1.28 to 1.39, e.g. 1.31."
  }
}

variable "node_pools" {
  description = "Worker node pools: EKS managed node groups on AWS, ACK node pools on AliCloud. With use_karpenter, these pools host the system workloads (and Karpenter itself) and Karpenter adds capacity beyond them."
  type = list(object({
    name          = string
    instance_type = string
    min_size      = number
    max_size      = number
  }))
  nullable = false

  validation {
    condition     = length(var.node_pools) >= 1 && length(var.node_pools) <= 5
    error_message = "node_pools must have from 1 to 5 pools."
  }
  validation {
    condition     = alltrue([for pool in var.node_pools : can(regex("^[a-z]([a-z0-9-]{0,18}[a-z0-9])?$", pool.name))])
    error_message = "Each node pool name must be a DNS label of 1 to 20 characters."
  }
  validation {
    condition     = length(distinct([for pool in var.node_pools : pool.name])) == length(var.node_pools)
    error_message = "Node pool names must be unique."
  }
  validation {
    condition     = alltrue([for pool in var.node_pools : can(regex("^ecs\\.[a-z0-9-]+\\.[a-z0-9]+$", pool.instance_type))])
    error_message = "Each instance_type must be an ECS instance type such as ecs.g7.xlarge."
  }
  validation {
    condition     = alltrue([for pool in var.node_pools : pool.min_size == floor(pool.min_size) && pool.max_size == floor(pool.max_size) && pool.min_size >= 0 && pool.max_size >= 1 && pool.min_size <= pool.max_size && pool.max_size <= 100])
    error_message = "Each pool needs whole numbers with 0 <= min_size <= max_size, 1 <= max_size <= 100."
  }
  validation {
    # The Cluster Agent (and CoreDNS, and Karpenter) must have somewhere to run from the start.
    condition     = anytrue([for pool in var.node_pools : pool.min_size >= 1])
    error_message = "At least one node pool must have min_size of 1 or more."
  }
}

variable "use_karpenter" {
  description = "Scale nodes with Karpenter (installed with its IAM role and interruption queue) in addition to the node pools. AWS only: must be false on AliCloud."
  type        = bool
  nullable    = false

  validation {
    # Karpenter has no AliCloud provider; ACK node pools autoscale by themselves (min_size..max_size).
    condition     = var.use_karpenter == false
    error_message = "use_karpenter must be false on AliCloud: ACK node pools scale between min_size and max_size instead."
  }
}

variable "database" {
  description = "The optional managed database, or null for none. engine: postgres or mysql on AWS (RDS); postgres, mysql or polardb on AliCloud. instance_class: the provider's instance class. storage_gb: allocated storage (ignored by PolarDB, whose storage grows by itself)."
  type = object({
    engine         = string
    instance_class = string
    storage_gb     = number
  })

  validation {
    condition     = var.database == null || contains(["postgres", "mysql", "polardb"], try(var.database.engine, ""))
    error_message = "database.engine must be postgres, mysql or polardb on AliCloud."
  }
  validation {
    condition     = var.database == null || can(regex("^[a-z][a-z0-9]*(\\.[a-z0-9]+){2,4}$", var.database.instance_class))
    error_message = "database.instance_class must be an ApsaraDB RDS or PolarDB class such as pg.n2.2c.2m, mysql.n2.medium.2c or polar.mysql.x4.medium."
  }
  validation {
    condition     = var.database == null || (try(var.database.storage_gb, 0) >= 20 && try(var.database.storage_gb, 0) <= 16384 && try(var.database.storage_gb == floor(var.database.storage_gb), false))
    error_message = "database.storage_gb must be a whole number from 20 to 16384."
  }
}

variable "deletion_protection" {
  description = "Turn on the cloud's deletion protection where the service has one: the database on both clouds, and the ACK cluster on AliCloud (EKS has no such flag in the AWS provider 5.x). The Portal sets it to false in the apply that precedes a confirmed destroy."
  type        = bool
  nullable    = false
}

variable "api_allowed_cidrs" {
  description = "IPv4 CIDRs allowed to reach the Kubernetes API's public endpoint: the provisioning runner's egress addresses. Nodes and the agent use the private endpoint."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.api_allowed_cidrs) >= 1 && length(var.api_allowed_cidrs) <= 20
    error_message = "api_allowed_cidrs must list from 1 to 20 CIDRs."
  }
  validation {
    condition     = alltrue([for cidr in var.api_allowed_cidrs : can(cidrhost(cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", cidr))])
    error_message = "Each api_allowed_cidrs entry must be an IPv4 CIDR such as 203.0.113.10/32."
  }
  validation {
    # An API server open to the whole internet is exactly what a security review flags first.
    condition     = alltrue([for cidr in var.api_allowed_cidrs : try(tonumber(split("/", cidr)[1]) >= 8, false)])
    error_message = "api_allowed_cidrs may not contain 0.0.0.0/0 or any range wider than /8."
  }
}

variable "agent_image" {
  description = "Container image of the Cluster Agent, pinned by tag or digest (never a moving 'latest')."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:[0-9]+)?/[a-z0-9._/-]+(@sha256:[0-9a-f]{64}|:[A-Za-z0-9._-]{1,128})$", var.agent_image)) && !endswith(var.agent_image, ":latest")
    error_message = "agent_image must be registry/repository:tag or registry/repository@sha256:digest, and not ':latest'."
  }
}

variable "portal_url" {
  description = "HTTPS base URL of the Portal that the Cluster Agent calls out to."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$", var.portal_url))
    error_message = "portal_url must be an https:// URL without query or fragment."
  }
}

variable "agent_bootstrap_token" {
  description = "One-time token the Cluster Agent registers with. Sensitive: written by the runner to a file it deletes after the run, stored only in a Kubernetes Secret in the cluster and in the state (in the tenant's encrypted bucket); never in an output."
  type        = string
  sensitive   = true
  nullable    = false

  validation {
    condition     = length(var.agent_bootstrap_token) >= 32 && length(var.agent_bootstrap_token) <= 512
    error_message = "agent_bootstrap_token must be between 32 and 512 characters."
  }
}

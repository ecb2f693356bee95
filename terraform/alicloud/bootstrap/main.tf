# Versioned, KMS-encrypted, private OSS bucket for the OpenTofu state of every workspace in this
# account and region (one object per workspace: workspaces/<workspace_id>/terraform.tfstate), and a
# Tablestore table for state locks, as OpenTofu's oss backend expects. Provider resources rather than
# the collection's remote-backend module: that module cannot turn on versioning or block public
# access, and it writes the backend configuration to a local file itself.

data "alicloud_account" "current" {}

data "alicloud_regions" "current" {
  current = true
}

locals {
  # Account id and region make the name unique without a random suffix, so the Portal can compute it.
  bucket_name = "cogrion-tfstate-${data.alicloud_account.current.id}-${var.region}"
  # Tablestore instance names: 3-16 characters, a letter first, and unique in the region across all
  # accounts (the name is the host name of the instance's endpoint), so a fixed name would collide
  # between tenants. Derived from the account and region: the Portal computes the same name.
  lock_instance = "cgr-${substr(md5("${data.alicloud_account.current.id}/${var.region}"), 0, 12)}"
  lock_table    = "cogrion_tfstate_locks"

  tags = {
    "cogrion-tenant-id"        = var.tenant_id
    "cogrion-cloud-account-id" = var.cloud_account_id
    "cogrion-managed-by"       = "cogrion-portal"
    "cogrion-purpose"          = "opentofu-state"
  }
}

resource "terraform_data" "region_guard" {
  input = var.region

  lifecycle {
    precondition {
      condition     = data.alicloud_regions.current.regions[0].id == var.region
      error_message = "The alicloud provider is configured for ${data.alicloud_regions.current.regions[0].id} but the state backend's region is ${var.region}."
    }
  }
}

resource "alicloud_oss_bucket" "state" {
  bucket        = local.bucket_name
  storage_class = "Standard"
  # Zone-redundant: the state survives the loss of a zone.
  redundancy_type = "ZRS"
  # A bucket with state in it is never emptied by a destroy.
  force_destroy = false

  # Every state write is a new version: a bad apply can be rolled back by restoring the previous one.
  versioning {
    status = "Enabled"
  }

  # Server-side encryption with KMS (OSS's service key in the tenant's account).
  server_side_encryption_rule {
    sse_algorithm = "KMS"
  }

  lifecycle_rule {
    id      = "expire-old-state-versions"
    enabled = true
    noncurrent_version_expiration {
      days = 365
    }
    abort_multipart_upload {
      days = 7
    }
  }

  tags = local.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "alicloud_oss_bucket_acl" "state" {
  bucket = alicloud_oss_bucket.state.bucket
  acl    = "private"
}

# Block public access at the bucket, whatever ACL or policy is set later.
resource "alicloud_oss_bucket_public_access_block" "state" {
  bucket              = alicloud_oss_bucket.state.bucket
  block_public_access = true
}

# HTTPS only, as on AWS: deny any request that is not made over TLS.
resource "alicloud_oss_bucket_policy" "state" {
  bucket = alicloud_oss_bucket.state.bucket
  policy = jsonencode({
    Version = "1"
    Statement = [{
      Effect    = "Deny"
      Action    = ["oss:*"]
      Principal = ["*"]
      Resource  = ["acs:oss:*:*:${local.bucket_name}", "acs:oss:*:*:${local.bucket_name}/*"]
      Condition = {
        Bool = { "acs:SecureTransport" = ["false"] }
      }
    }]
  })
}

resource "alicloud_ots_instance" "locks" {
  name        = local.lock_instance
  description = "Cogrion OpenTofu state locks"
  # The Portal's runner reaches the lock table over the public endpoint (and a runner inside a VPC
  # over the VPC one). network_type_acl replaced accessed_by (deprecated since provider 1.221).
  network_type_acl = ["INTERNET", "VPC"]
  instance_type    = "HighPerformance"
  tags             = local.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "alicloud_ots_table" "locks" {
  instance_name = alicloud_ots_instance.locks.name
  table_name    = local.lock_table
  time_to_live  = -1
  max_version   = 1

  # Lock rows say who holds a lock and on which state; encrypted at rest like the state itself.
  enable_sse   = true
  sse_key_type = "SSE_KMS_SERVICE"

  # The oss backend requires exactly this primary key: LockID, a String.
  primary_key {
    name = "LockID"
    type = "String"
  }
}

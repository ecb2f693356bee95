# Versioned, KMS-encrypted, private S3 bucket for the OpenTofu state of every workspace in this account
# and region (one object per workspace: workspaces/<workspace_id>/terraform.tfstate). No lock table:
# the s3 backend locks with a lock file next to the state (use_lockfile, OpenTofu 1.10+, ADR 0043),
# so the bucket is the whole backend. Destroying it is deliberately hard: it would orphan every workspace.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  # Account id and region make the name globally unique without a random suffix, so the Portal can
  # compute it without reading any state.
  bucket_name = "cogrion-tfstate-${data.aws_caller_identity.current.account_id}-${var.region}"

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
      condition     = data.aws_region.current.name == var.region
      error_message = "The aws provider is configured for ${data.aws_region.current.name} but the state backend's region is ${var.region}."
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "Cogrion: OpenTofu state of the workspaces in this account and region"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "state" {
  name          = "alias/cogrion-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

module "state_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"

  bucket = local.bucket_name

  # A bucket with state in it is never emptied by a destroy.
  force_destroy = false

  # Every state write is a new version: a bad apply can be rolled back by restoring the previous one.
  versioning = {
    enabled = true
  }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = aws_kms_key.state.arn
      }
      bucket_key_enabled = true
    }
  }

  # Private in every way S3 offers: no ACLs, no public policies, TLS 1.2+ only.
  block_public_acls                     = true
  block_public_policy                   = true
  ignore_public_acls                    = true
  restrict_public_buckets               = true
  control_object_ownership              = true
  object_ownership                      = "BucketOwnerEnforced"
  attach_deny_insecure_transport_policy = true
  attach_require_latest_tls_policy      = true

  lifecycle_rule = [
    {
      id                                     = "expire-old-state-versions"
      enabled                                = true
      abort_incomplete_multipart_upload_days = 7
      noncurrent_version_expiration = {
        days = 365
      }
    }
  ]

  tags = local.tags
}

# Earlier revisions of this module created a DynamoDB lock table. If a state still holds it, forget it
# rather than destroy it (it has deletion protection, so a destroy would fail the apply); removing the
# table, if wanted, is a manual clean-up in the tenant's account. OpenTofu's removed block forgets.
removed {
  from = aws_dynamodb_table.locks
}

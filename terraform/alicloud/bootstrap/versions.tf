terraform {
  required_version = ">= 1.10.0"

  required_providers {
    alicloud = {
      source  = "aliyun/alicloud"
      version = ">= 1.275.0, < 2.0.0"
    }
  }
}

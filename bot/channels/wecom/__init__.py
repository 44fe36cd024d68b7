"""The WeCom (企业微信) channel: self-built app callback and API, and group robots."""

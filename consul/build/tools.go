//go:build tools

// Package consulbuild only pins the Consul agent so `go build` can find it.
package consulbuild

import _ "github.com/hashicorp/consul"

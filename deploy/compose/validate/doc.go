// Package validate checks deploy/compose/compose.yaml with compose-go, the
// loader and JSON-schema validator that Docker Compose v2 itself uses. It
// is a module of its own so that vipgate's module does not depend on
// compose-go; .ci/run runs its test (cd deploy/compose/validate && go test
// ./...), "go test ./..." at the top of the tree does not.
package validate

// Package compose holds vipgate's Docker Compose setup (compose.yaml, the
// Dockerfile, init-secrets.sh and README.md). Its Go code is only a test
// that parses compose.yaml and checks it against the repository: services,
// secrets, volumes, the Asterisk configuration files it mounts and the
// prompt languages of package sounds. Docker itself is not run.
//
// Package compose imports sounds and the standard library (and a YAML
// parser) in its test only; it is never imported.
package compose

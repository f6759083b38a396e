package gate

// Log keys shared by the Flow and the adapters, so that one call can be
// followed through every log line whatever the transport.
const (
	// LogKeys lists the keys of ignored dialplan arguments.
	LogKeys = "keys"
)

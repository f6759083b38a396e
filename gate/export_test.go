package gate

// Test hooks for the fast path of international numbers.
var FastE164 = fastE164

func ParseE164(s string) (string, error) { return parseE164(s, s) }

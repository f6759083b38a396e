package gate

// Test hooks for the fast path of NormalizeNumber.
var FastE164 = fastE164

func ParseE164(s, region string) (string, error) { return parseE164(s, s, region) }

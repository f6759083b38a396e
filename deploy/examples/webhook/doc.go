// Command webhook is an example decision service for a vipgate webhook gate
// (deploy/examples/webhook-gate.yaml). vipgate calls it for every call the
// gate screens:
//
//	GET /decide?caller=%2B4917612345678&called=%2B4940822240
//
// (or POST /decide with {"caller":"…","called":"…"}), signed with the
// gate's secret. The service checks the signature, refuses requests whose
// timestamp is more than five minutes away and signatures it has seen
// before (replays), and answers from a small in-memory directory:
//
//	VIP callers       {"askForPin":{"expectedPIN":"482915","maxRetries":3}}
//	blocked callers   {"reject":true}
//	everyone else     {"reject":false}
//
// Replace the directory with a lookup in your CRM. Run it with
//
//	head -c 32 /dev/urandom | base64 > /etc/vipgate/webhook-secret
//	go run ./deploy/examples/webhook -secret-file /etc/vipgate/webhook-secret
//
// and point the gate's secret_file at the same file. Numbers arrive in
// international format (E.164) whenever vipgate could normalise them.
//
// It imports vipgate's webhook package (for Verify) and the standard
// library only.
package main

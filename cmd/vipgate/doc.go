// Command vipgate is the vipgate binary: it screens Asterisk calls (serve),
// and manages gates, PIN tables, tokens and prompts from the command line.
//
// main only calls run(ctx, args, getenv, stdout, stderr); everything is
// wired here and nowhere else. This is the only package that imports every
// adapter (ari, agi, webhook, storage, admin, sounds).
package main

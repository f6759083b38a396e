#!/bin/sh
# init-secrets.sh creates the secret files compose.yaml expects, once:
#   secrets/vipgate-key    32 random bytes as hex (the installation key)
#   secrets/ari-password   a random ARI password; put the same value into
#                          deploy/asterisk/ari.conf
# Both are made readable by uid 65532, the user vipgate runs as in its
# image (compose passes secret files through with their host ownership).
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
chmod 0700 secrets
umask 077
if [ ! -e secrets/vipgate-key ]; then
	od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > secrets/vipgate-key
	echo >> secrets/vipgate-key
	echo "created secrets/vipgate-key: back it up"
fi
if [ ! -e secrets/ari-password ]; then
	od -An -N18 -tx1 /dev/urandom | tr -d ' \n' > secrets/ari-password
	echo "created secrets/ari-password: set it as the vipgate user's password in deploy/asterisk/ari.conf"
fi
if [ "$(id -u)" = 0 ]; then
	chown 65532:65532 secrets/vipgate-key secrets/ari-password
	chmod 0711 secrets
else
	echo "not root: run 'sudo chown 65532:65532 secrets/*' and 'sudo chmod 0711 secrets' so the containers can read them"
fi

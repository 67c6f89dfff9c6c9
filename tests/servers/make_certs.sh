#!/bin/sh
# Generate the test TLS material used by tests/servers/fault_smtp.py and the tests.
#
#   tests/servers/make_certs.sh OUTDIR
#
# Writes into OUTDIR (created if missing), skipping any pair that already exists:
#   ca.pem / ca.key                 test CA (basicConstraints critical CA:TRUE)
#   good.pem / good.key             leaf from the CA, SAN DNS:localhost, IP:127.0.0.1
#   wrongname.pem / wrongname.key   leaf from the CA, SAN DNS:wrong.example.test only
#   expired.pem / expired.key       leaf from the CA for localhost/127.0.0.1, valid 2020-01-01..2021-01-01
#   selfsigned.pem / selfsigned.key self-signed leaf for localhost/127.0.0.1 (not from the CA)
#   usual.pem / usual.key           self-signed the way people make one: `openssl req -x509
#                                   -newkey rsa:2048 ...` with openssl's own defaults, which
#                                   mark it CA:TRUE (SAN localhost, 127.0.0.1)
#   inter.pem / inter.key           intermediate CA "php-smtp Test Intermediate", from the CA
#   leaf_inter.pem / .key           leaf for localhost/127.0.0.1 from the intermediate (alone)
#   leaf_inter_chain.pem / .key     the same leaf followed by the intermediate (full chain)
#
# All keys are EC P-256 (PKCS#8, unencrypted). Leaves are X.509 v3 TLS server certificates
# (CA:FALSE, digitalSignature+keyEncipherment, serverAuth) so rustls/webpki accepts good.pem
# when ca.pem is trusted. Needs only the openssl CLI (1.1.1 or 3.x).
#
# Note: `openssl x509 -req` in OpenSSL 3.0 has no way to set a not-before date in the past
# (-not_before only appeared in 3.4), so expired.pem is signed with `openssl ca -startdate
# -enddate`, using a throw-away CA database in a temporary directory.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/make_certs.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# Minimal config: no dependency on the system openssl.cnf.
cat > "$TMP/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = req_dn
prompt             = no
string_mask        = utf8only

[ req_dn ]
CN = placeholder

[ v3_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_localhost ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName         = DNS:localhost, IP:127.0.0.1

[ v3_wrongname ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName         = DNS:wrong.example.test

[ v3_selfsigned ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
subjectAltName         = DNS:localhost, IP:127.0.0.1

# Used only for expired.pem (openssl ca, to set dates in the past).
[ ca ]
default_ca = test_ca

[ test_ca ]
dir             = CA_DIR_PLACEHOLDER
database        = $dir/index.txt
new_certs_dir   = $dir/newcerts
serial          = $dir/serial
certificate     = CA_CERT_PLACEHOLDER
private_key     = CA_KEY_PLACEHOLDER
default_md      = sha256
policy          = policy_any
unique_subject  = no
copy_extensions = none
email_in_dn     = no

[ policy_any ]
commonName = supplied
EOF

CNF=$TMP/openssl.cnf

newkey() { # $1 = key file
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
    chmod 600 "$1"
}

serial() { # random positive 64-bit-ish serial in hex
    printf '%s' "$(openssl rand -hex 8 | sed 's/^[89a-f]/1/')"
}

# Sign a CSR with the CA via `openssl x509 -req` (valid now for 10 years).
sign_leaf() { # $1 = name, $2 = CN, $3 = extension section
    name=$1 cn=$2 ext=$3
    newkey "$TMP/$name.key"
    openssl req -new -config "$CNF" -key "$TMP/$name.key" -subj "/CN=$cn" -out "$TMP/$name.csr"
    openssl x509 -req -in "$TMP/$name.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" \
        -set_serial "0x$(serial)" -days 3650 -sha256 \
        -extfile "$CNF" -extensions "$ext" -out "$TMP/$name.pem" 2>/dev/null
    mv "$TMP/$name.key" "$OUT/$name.key"
    mv "$TMP/$name.pem" "$OUT/$name.pem"
    echo "made $OUT/$name.pem" >&2
}

exists() { [ -s "$OUT/$1.pem" ] && [ -s "$OUT/$1.key" ]; }

# --- CA -------------------------------------------------------------------------------
ca_new=0
if ! exists ca; then
    newkey "$TMP/ca.key"
    openssl req -new -x509 -config "$CNF" -key "$TMP/ca.key" -subj "/CN=php-smtp Test CA" \
        -set_serial "0x$(serial)" -days 3650 -sha256 -extensions v3_ca -out "$TMP/ca.pem"
    mv "$TMP/ca.key" "$OUT/ca.key"
    mv "$TMP/ca.pem" "$OUT/ca.pem"
    echo "made $OUT/ca.pem" >&2
    ca_new=1
fi

# A new CA invalidates leaves signed by an old one: regenerate them too.
if [ "$ca_new" = 1 ]; then
    for n in good wrongname expired; do rm -f "$OUT/$n.pem" "$OUT/$n.key"; done
fi

# --- leaves from the CA ------------------------------------------------------------------
exists good      || sign_leaf good localhost v3_localhost
exists wrongname || sign_leaf wrongname wrong.example.test v3_wrongname

if ! exists expired; then
    mkdir -p "$TMP/ca/newcerts"
    : > "$TMP/ca/index.txt"
    serial > "$TMP/ca/serial"
    sed -e "s#CA_DIR_PLACEHOLDER#$TMP/ca#" \
        -e "s#CA_CERT_PLACEHOLDER#$OUT/ca.pem#" \
        -e "s#CA_KEY_PLACEHOLDER#$OUT/ca.key#" "$CNF" > "$TMP/ca.cnf"
    newkey "$TMP/expired.key"
    openssl req -new -config "$CNF" -key "$TMP/expired.key" -subj "/CN=localhost" -out "$TMP/expired.csr"
    openssl ca -batch -notext -config "$TMP/ca.cnf" -in "$TMP/expired.csr" \
        -startdate 20200101000000Z -enddate 20210101000000Z \
        -extfile "$CNF" -extensions v3_localhost -out "$TMP/expired.pem" 2>/dev/null
    mv "$TMP/expired.key" "$OUT/expired.key"
    mv "$TMP/expired.pem" "$OUT/expired.pem"
    echo "made $OUT/expired.pem" >&2
fi

# --- self-signed leaf ----------------------------------------------------------------------
if ! exists selfsigned; then
    newkey "$TMP/selfsigned.key"
    openssl req -new -x509 -config "$CNF" -key "$TMP/selfsigned.key" -subj "/CN=localhost" \
        -set_serial "0x$(serial)" -days 3650 -sha256 -extensions v3_selfsigned \
        -out "$TMP/selfsigned.pem"
    mv "$TMP/selfsigned.key" "$OUT/selfsigned.key"
    mv "$TMP/selfsigned.pem" "$OUT/selfsigned.pem"
    echo "made $OUT/selfsigned.pem" >&2
fi

# --- the way people make a self-signed certificate (openssl's defaults: CA:TRUE) ---------------
if ! exists usual; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/usual.key" -out "$TMP/usual.pem" \
        -days 3650 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
    mv "$TMP/usual.key" "$OUT/usual.key"
    mv "$TMP/usual.pem" "$OUT/usual.pem"
    echo "made $OUT/usual.pem" >&2
fi

# --- an intermediate CA and a leaf from it ---------------------------------------------------
if [ "$ca_new" = 1 ]; then
    rm -f "$OUT/inter.pem" "$OUT/inter.key" "$OUT"/leaf_inter*.pem "$OUT"/leaf_inter*.key
fi
if ! exists inter; then
    newkey "$TMP/inter.key"
    openssl req -new -config "$CNF" -key "$TMP/inter.key" -subj "/CN=php-smtp Test Intermediate" \
        -out "$TMP/inter.csr"
    openssl x509 -req -in "$TMP/inter.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" \
        -set_serial "0x$(serial)" -days 3650 -sha256 \
        -extfile "$CNF" -extensions v3_ca -out "$TMP/inter.pem" 2>/dev/null
    mv "$TMP/inter.key" "$OUT/inter.key"
    mv "$TMP/inter.pem" "$OUT/inter.pem"
    rm -f "$OUT"/leaf_inter*.pem "$OUT"/leaf_inter*.key
    echo "made $OUT/inter.pem" >&2
fi
if ! exists leaf_inter || ! exists leaf_inter_chain; then
    newkey "$TMP/leaf_inter.key"
    openssl req -new -config "$CNF" -key "$TMP/leaf_inter.key" -subj "/CN=localhost" \
        -out "$TMP/leaf_inter.csr"
    openssl x509 -req -in "$TMP/leaf_inter.csr" -CA "$OUT/inter.pem" -CAkey "$OUT/inter.key" \
        -set_serial "0x$(serial)" -days 3650 -sha256 \
        -extfile "$CNF" -extensions v3_localhost -out "$TMP/leaf_inter.pem" 2>/dev/null
    cat "$TMP/leaf_inter.pem" "$OUT/inter.pem" > "$TMP/leaf_inter_chain.pem"
    cp "$TMP/leaf_inter.key" "$TMP/leaf_inter_chain.key"
    for n in leaf_inter leaf_inter_chain; do
        mv "$TMP/$n.key" "$OUT/$n.key"
        mv "$TMP/$n.pem" "$OUT/$n.pem"
    done
    echo "made $OUT/leaf_inter.pem and leaf_inter_chain.pem" >&2
fi

# Keys readable by the test processes (they are throw-away test keys).
chmod 644 "$OUT"/*.key

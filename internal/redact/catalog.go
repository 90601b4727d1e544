package redact

import "strings"

// notLabel: a value that ends in ':' is the next label or message ("Password: panic: …"), not
// a value.
func notLabel(secret string) bool { return !strings.HasSuffix(secret, ":") }

// Catalog is every secret form redacted, in the order they are tried. Each pattern names the
// secret's span as the group "secret"; the text around it (the key name, the scheme, "Bearer")
// stays, so a reader still sees what kind of credential the line held.
var Catalog = []Rule{
	{
		ID:     "private-key",
		What:   "the body of a PEM private key (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted), on one line as JSON or a log line carries it",
		Source: "RFC 7468 §2 (pre-encapsulation boundary \"-----BEGIN <label>-----\"); OpenSSH PROTOCOL.key",
		// The key may run to the end of the line when its lines were split (a file read line by
		// line); the base64 body lines after it are caught by pem-body. (?s): a fact's message
		// is unquoted, so the key's \n are real line breaks there.
		Pattern: `(?s)-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?P<secret>.*?)(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)`,
		Needs:   []string{"private key-----"},
		Examples: []string{
			`{"key":"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAyb0Ybz2q\n-----END RSA PRIVATE KEY-----\n"}`,
			`-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC -----END PRIVATE KEY-----`,
		},
		NearMisses: []string{"-----BEGIN CERTIFICATE-----", "-----BEGIN PUBLIC KEY-----"},
	},
	{
		ID:     "pem-body",
		What:   "a line that is only base64 of 60 or more characters in mixed case and digits, as the body lines of a PEM key are",
		Source: "RFC 7468 §3 (base64 lines of at most 64 characters)",
		// Hex (container ids, digests) is one case only and is not matched.
		Pattern:    `^\s*(?P<secret>(?:[A-Za-z0-9+/]{60,76})={0,2})\s*$`,
		AtMessage:  true,
		Maybe:      base64Run,
		Check:      mixedBase64,
		Examples:   []string{"MIIEowIBAAKCAQEAyb0Ybz2qTfG9sDkQ7pWx3J5v8Zt1LmN4oPqRsTuVwXyZaBcDeFgH", "  b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn"},
		NearMisses: []string{"220c8e8bface3fb4d4058b49d89d8daf6fcd2246470384f3c502d16db13d3885", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ"},
	},
	{
		ID:      "aws-access-key-id",
		What:    "an AWS access key id (long-term AKIA…, temporary ASIA…)",
		Source:  "AWS IAM User Guide, \"Reference: IAM identifiers\" — unique ID prefixes AKIA, ASIA; 20 characters, base32",
		Pattern: `\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`,
		Needs:   []string{"akia", "asia", "abia", "acca"},
		Examples: []string{
			`time="2026-11-20T10:26:17Z" level=error msg="pull failed" AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE`,
			`{"AccessKeyId":"ASIAY34FZKBOKMUTVV7A","Expiration":"2026-11-20T16:26:17Z"}`,
		},
		NearMisses: []string{"AKIAnotakey", "FAKIAIOSFODNN7EXAMPLEX", "kubepods-burstable-podaaa2e8fe_bc21_41f8_7abb_c9ea50487435.slice"},
	},
	{
		ID:      "aws-secret",
		What:    "an AWS secret access key or session token after its name (env, INI, JSON, query string)",
		Source:  "AWS CLI config files (aws_secret_access_key, aws_session_token); STS Credentials (SecretAccessKey, SessionToken); SigV4 X-Amz-Security-Token",
		Pattern: `(?i)(?:aws_?secret_?access_?key|secret_?access_?key|aws_?session_?token|session_?token|x-amz-security-token)[\\"']{0,3}\s*[:=]\s*[\\"']{0,3}(?P<secret>[A-Za-z0-9/+=%]{16,})`,
		Needs:   []string{"secret", "session", "security-token"},
		Examples: []string{
			`AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`,
			`{"SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","SessionToken":"IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLXdlc3QtMiJHMEUCIQ"}`,
			`GET /bucket/key?X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F%2F%2FwEaCXVz HTTP/1.1`,
		},
		NearMisses: []string{`level=info msg="refreshing session token"`, `session_token_ttl=3600s`},
	},
	{
		ID:      "jwt",
		What:    "a JSON Web Token (Kubernetes service account tokens, OIDC id tokens)",
		Source:  "RFC 7519 §3 (three base64url parts joined by dots; a JSON header begins eyJ)",
		Pattern: `(?P<secret>\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)`,
		Needs:   []string{"eyj"},
		Examples: []string{
			`I1120 10:26:17.123456    2211 token.go:88] using token eyJhbGciOiJSUzI1NiIsImtpZCI6IkJ4In0.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJl`,
		},
		NearMisses: []string{"eyJhbGciOiJSUzI1NiJ9 is a header alone"},
	},
	{
		ID:      "authorization",
		What:    "the credential of an Authorization or Proxy-Authorization header, and any Bearer token",
		Source:  "RFC 9110 §11.6.2 (Authorization = credentials); RFC 6750 §2.1 (Bearer b64token)",
		Pattern: `(?i)(?:(?:proxy-)?authorization[\\"'\]]{0,4}\s*[:=]\s*[\\"']{0,3}(?:(?:bearer|basic|token|negotiate|digest|aws4-hmac-sha256)\s+)?|\bbearer\s+)(?P<secret>[A-Za-z0-9._~+/=:,-]{8,})`,
		Needs:   []string{"authorization", "bearer"},
		Examples: []string{
			`Authorization: Bearer sha256~QWxhZGRpbjpvcGVuIHNlc2FtZQ`,
			`req.Header["Authorization"]="Basic YWxhZGRpbjpvcGVuc2VzYW1l"`,
			`curl -H "Authorization: token ghp_x1y2z3a4b5c6d7e8f9g0"`,
		},
		NearMisses: []string{`"Unhandled Error" err="authorization failed"`, `bearer token file /var/run/secrets missing`},
	},
	{
		ID:      "url-password",
		What:    "the password of user:password@ in a URL or connection URI",
		Source:  "RFC 3986 §3.2.1 (userinfo, \"user:password\" deprecated but seen)",
		Pattern: `\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^/\s:@"']{0,64}:(?P<secret>[^/\s@"']{1,128})@`,
		Needs:   []string{"://"},
		Examples: []string{
			`dial postgres://app:s3cr3t-P4ss@db.internal:5432/orders failed`,
			`HTTPS_PROXY=http://proxyuser:hunter2@10.0.0.5:3128`,
			`REDIS_URL=redis://:Zk8s3cr3tRedis@cache.internal:6379/0`,
		},
		NearMisses: []string{"https://registry.k8s.io/v2/pause/manifests/3.9", "http://169.254.169.254/latest/meta-data", "tcp://[fd00::1]:443"},
	},
	{
		ID:        "kubeconfig-credential",
		What:      "a credential field of a kubeconfig or Kubernetes manifest line (client-key-data, token, password, id-token, refresh-token)",
		Source:    "client-go tools/clientcmd/api/v1 AuthInfo (client-key-data, token, password); OIDC auth-provider config (id-token, refresh-token)",
		Pattern:   `(?i)^\s*-?\s*"?(?:client-key-data|token|password|id-token|refresh-token)"?\s*:\s*"?(?P<secret>[^\s"]{6,})`,
		AtMessage: true,
		Check:     notLabel,
		Needs:     []string{"key-data", "token", "password"},
		Examples: []string{
			`    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=`,
			`    token: 7c2d9a1b-0f3e-4e5d-9a8b-1c2d3e4f5a6b`,
			`      refresh-token: 1//0gAbCdEfGhIjKlMnOp`,
		},
		NearMisses: []string{`E1120 10:26:17.123456 2211 auth.go:12] failed to get token: unauthorized`, `    token-file: /var/run/secrets/token`},
	},
	{
		ID:      "docker-config",
		What:    "the auth, password or identity token of a Docker or containerd registry credential",
		Source:  "docker/cli config file format (auths.<registry>.auth, identitytoken, registrytoken); containerd CRI registry config (password, auth)",
		Pattern: `(?i)\\{0,3}"(?:auth|identitytoken|registrytoken|password)\\{0,3}"\s*:\s*\\{0,3}"(?P<secret>[^"\\]{4,})`,
		Needs:   []string{`"auth`, `identitytoken`, `registrytoken`, `"password`},
		Examples: []string{
			`{"auths":{"123456789012.dkr.ecr.us-west-2.amazonaws.com":{"auth":"QVdTOmV5SndZWGxzYjJGa0lqb2lhRzFv"}}}`,
			`{"identitytoken":"d2hhdGV2ZXItdGhpcy1pcw"}`,
		},
		NearMisses: []string{`{"authority":"ecr"}`, `{"auth_method":"none"}`},
	},
	{
		ID:      "vendor-token",
		What:    "an API token of a well-known form (GitHub, GitLab, Slack, Google API key, Stripe live key)",
		Source:  "GitHub token prefixes ghp_/gho_/ghu_/ghs_/ghr_ and github_pat_; GitLab glpat-; Slack xox[abposr]-; Google API keys AIza; Stripe sk_live_/rk_live_",
		Pattern: `\b(?P<secret>gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255}|glpat-[A-Za-z0-9_-]{20,}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|[sr]k_live_[0-9A-Za-z]{16,}|npm_[A-Za-z0-9]{36}|sk-(?:proj-)?[A-Za-z0-9_-]{32,}|hooks\.slack\.com/services/[A-Za-z0-9/]{20,})`,
		Needs:   []string{"gh", "glpat-", "xox", "aiza", "k_live_", "npm_", "sk-", "hooks.slack.com"},
		Examples: []string{
			`GITHUB_TOKEN=ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ12`,
			`slack webhook token xoxb-123456789012-abcdefghijkl`,
			`key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW`,
			`//registry.npmjs.org/:_authToken=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8`,
			`OPENAI_API_KEY=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78`,
			`posting alert to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX`,
		},
		NearMisses: []string{"ghost_process started", "sk_test_123 is a test key"},
	},
	{
		ID:      "bootstrap-token",
		What:    "a Kubernetes bootstrap token (kubeadm join --token, a node's bootstrap kubeconfig)",
		Source:  "Kubernetes docs, \"Authenticating with Bootstrap Tokens\": tokens match [a-z0-9]{6}.[a-z0-9]{16}",
		Pattern: `\b(?P<secret>[a-z0-9]{6}\.[a-z0-9]{16})\b`,
		Maybe:   bootstrapShape,
		Check:   hasDigitAndLetter,
		Examples: []string{
			`kubeadm join 10.0.0.5:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:4f53f2d1b9e7a4c8d3e6f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f`,
		},
		NearMisses: []string{"ip-10-0-37-142.us-west-2.compute.internal", "registry.example.com/payments/ledger:2.1", "kubelet.service.d"},
	},
	{
		ID:      "flag-secret",
		What:    "the value of a command-line flag that takes a secret (--token, --password, --secret, --api-key, --access-key, --private-key), as ps output shows it",
		Source:  "the EKS log collector's system/ps.txt keeps every process's full command line",
		Pattern: `(?i)--(?:[a-z0-9]+-)*(?:token|password|passwd|secret|api-key|access-key|private-key)(?:=|\s+)(?P<secret>[^\s"',;&\\-][^\s"',;&\\]{2,})`,
		Needs:   []string{"--"},
		Examples: []string{
			`root 4242 0.1 0.0 723000 9000 ? Ssl 10:00 0:01 /usr/bin/agent --api-key=0123456789abcdef --verbose`,
			`kubeadm join 10.0.0.5:6443 --token abcdef.0123456789abcdef`,
			`mysqld --password s3cr3tpw --user app`,
		},
		NearMisses: []string{"/usr/bin/kubelet --token-file /var/lib/kubelet/token", "docker login --password-stdin", "--secret-name db-creds-ref", "--password --next-flag"},
	},
	{
		ID:      "token-assignment",
		What:    "the value of token=… (with =, not ':', which also ends messages such as \"failed to get token: …\")",
		Source:  "logfmt and query strings (token=…, ?token=…)",
		Pattern: `(?i)\btoken[\\"']{0,3}\s*=\s*[\\"']{0,3}(?P<secret>[^\s"',;&}\\]{6,})`,
		Needs:   []string{"token"},
		Examples: []string{
			`GET /api/v1/watch?token=Zm9vYmFyYmF6cXV4 HTTP/1.1`,
			`level=debug msg="refreshed" token="4f8a9b2c1d3e"`,
		},
		NearMisses: []string{`E1120 10:26:17.123456 2211 auth.go:12] failed to get token: unauthorized`, `token_ttl=3600`, `tokens=5`},
	},
	{
		ID:      "secret-assignment",
		What:    "the value after a name that says it is secret: password, passwd, pwd, secret, api key, access token, auth token, client secret, private key",
		Source:  "common forms in env files, INI, connection strings (Password=…;), query strings and logfmt",
		Pattern: `(?i)(?:password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key|client-key-data|account[_-]?key|shared[_-]?access[_-]?key|sharedaccesskey|secret[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|credentials?)[\\"']{0,3}\s*[=:]\s*[\\"']{0,3}(?P<secret>[^\s"',;&}\\]{3,})`,
		Needs:   []string{"pass", "pwd", "secret", "key", "token"}, // client-key-data holds "key"
		Examples: []string{
			`Server=db;Database=orders;User Id=app;Password=Tr0ub4dor&3;`,
			`DB_PASSWORD=hunter2hunter2`,
			`level=error msg="login failed" client_secret=9f8e7d6c5b4a`,
			`api_key: 0123456789abcdef`,
			`DefaultEndpointsProtocol=https;AccountName=logs;AccountKey=bm90LWEtcmVhbC1rZXktYnV0LWxvb2tzLWxpa2Utb25l==;EndpointSuffix=core.windows.net`,
			`Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=c2hhcmVkLWFjY2Vzcy1rZXk=`,
		},
		NearMisses: []string{
			`MountVolume.SetUp failed for volume "db-creds" : secret "db-creds" not found`,
			`couldn't find key password in Secret shop/db-creds`,
			`password_expiry_days=30`,
			// A prompt followed by the next thing written (awslabs/amazon-eks-ami#831).
			`Dec 16 23:29:35 ip-44-130-26-187 pull-sandbox-image.sh[3307]: Password: panic: provided file is not a console`,
		},
		Check: notLabel,
	},
}

// bootstrapShape finds six lower-case alphanumerics, a dot and sixteen more without a
// regexp: nearly every line has a dot, almost none has this.
func bootstrapShape(s string) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 6; i+16 < len(s); i++ {
		if s[i] != '.' {
			continue
		}
		ok := true
		for j := i - 6; j < i+17 && ok; j++ {
			ok = j == i || alnum(s[j])
		}
		if ok {
			return true
		}
	}
	return false
}

// hasDigitAndLetter: a bootstrap token is random, so it has both; a host name part rarely
// holds sixteen of them after six.
func hasDigitAndLetter(s string) bool {
	return strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz")
}

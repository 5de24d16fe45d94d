package collect

import (
	"regexp"
	"strings"
)

// reSecretParam matches the value of a query or form parameter that can
// carry a secret: OAuth tokens, API keys, signatures, passwords.
var reSecretParam = regexp.MustCompile(`(?i)([?&;#]|\b)((?:access|refresh|id|oauth|bearer|auth|api|app|client|session|csrf|xsrf)?[_-]?(?:token|key|secret|signature|sig|password|passwd|pwd|apikey|code|credential|credentials|security-token)|x-amz-(?:signature|credential|security-token)|appsecret_proof|authorization)=([^&#\s"'<>]*)`)

// reBearer matches an authorisation scheme and its credentials.
var reBearer = regexp.MustCompile(`(?i)\b(bearer|basic|token|oauth)\s+[A-Za-z0-9._~+/=-]{8,}`)

// reUserinfo matches user:password@ in a URL.
var reUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s"']+@`)

// Scrub removes what could be a secret from s (a URL, or an error or log
// message holding one): the values of access_token, key, token, secret,
// signature, password and similar parameters, "Bearer …" credentials, and
// the user information of URLs. Collectors pass every URL or message they
// log or put in an error through it; the client and the runner do so
// themselves.
func Scrub(s string) string {
	if s == "" {
		return s
	}
	if strings.Contains(s, "=") {
		s = reSecretParam.ReplaceAllStringFunc(s, func(m string) string {
			sub := reSecretParam.FindStringSubmatch(m)
			value := sub[3]
			// Punctuation that ends a sentence is not part of the value
			// ("…?access_token=abc: HTTP 401").
			trail := len(value)
			for trail > 0 && strings.ContainsRune(":;,.)]}", rune(value[trail-1])) {
				trail--
			}
			if trail == 0 {
				return m
			}
			return sub[1] + sub[2] + "=REDACTED" + value[trail:]
		})
	}
	s = reBearer.ReplaceAllString(s, "$1 REDACTED")
	if strings.Contains(s, "@") {
		s = reUserinfo.ReplaceAllString(s, "${1}REDACTED@")
	}
	return s
}

// ScrubSecret is Scrub, and also removes every occurrence of secret
// (when it is long enough not to match by chance).
func ScrubSecret(s, secret string) string {
	if len(secret) >= 4 {
		s = strings.ReplaceAll(s, secret, "REDACTED")
	}
	return Scrub(s)
}

package passpolicy

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rules named by Violation.Rule.
const (
	RuleTooShort         = "too_short"
	RuleTooLong          = "too_long"
	RuleBlocklisted      = "blocklisted"
	RuleContainsUsername = "contains_username"
	RuleComplexity       = "complexity"
	RuleReused           = "reused"
	RuleNULByte          = "nul_byte"
	RuleInvalidUTF8      = "invalid_utf8"
)

// ErrRejected matches every *Violation with errors.Is.
var ErrRejected = errors.New("passpolicy: password rejected")

// Violation is a password that breaks a policy rule. Message is safe to show
// the user: it never contains the password.
type Violation struct {
	// Rule is one of the Rule constants.
	Rule string
	// Message explains the rule to the user.
	Message string
}

// Error implements error.
func (v *Violation) Error() string {
	return "passpolicy: " + v.Rule + ": " + v.Message
}

// Is reports whether target is ErrRejected.
func (v *Violation) Is(target error) bool { return target == ErrRejected }

// Reused returns the violation for a password found in the user's history.
// History is checked by the caller, which holds the stored hashes.
func Reused() *Violation {
	return &Violation{Rule: RuleReused, Message: "this password was used recently; choose a new one"}
}

// minUsernameCheck is the shortest username checked for containment.
const minUsernameCheck = 3

// Check returns a *Violation if password breaks p for username: not valid
// UTF-8, a NUL byte, fewer than MinLength or more than MaxLength runes, on the
// blocklist, containing the username (case-insensitively, for usernames of 3
// runes or more), or fewer than RequireClasses character classes. It does
// not check history; see HistoryApplies and Reused.
func (p Policy) Check(username, password string) error {
	if v := p.checkEncoding(password); v != nil {
		return v
	}
	if v := p.checkLength(password); v != nil {
		return v
	}
	if Blocklisted(password) {
		return &Violation{Rule: RuleBlocklisted, Message: "this password is too common or has appeared in a breach"}
	}
	if containsUsername(username, password) {
		return &Violation{Rule: RuleContainsUsername, Message: "the password must not contain the username"}
	}
	if n := classes(password); n < p.RequireClasses {
		return &Violation{Rule: RuleComplexity, Message: fmt.Sprintf(
			"use at least %d of: lowercase, uppercase, digits, symbols (found %d)", p.RequireClasses, n)}
	}
	return nil
}

// checkEncoding rejects invalid UTF-8 and NUL bytes.
func (p Policy) checkEncoding(password string) *Violation {
	if !utf8.ValidString(password) {
		return &Violation{Rule: RuleInvalidUTF8, Message: "the password is not valid UTF-8"}
	}
	if strings.IndexByte(password, 0) >= 0 {
		return &Violation{Rule: RuleNULByte, Message: "the password must not contain a NUL character"}
	}
	return nil
}

// checkLength enforces MinLength and MaxLength in runes.
func (p Policy) checkLength(password string) *Violation {
	n := utf8.RuneCountInString(password)
	if n < p.MinLength {
		return &Violation{Rule: RuleTooShort, Message: fmt.Sprintf("use at least %d characters", p.MinLength)}
	}
	if n > p.MaxLength {
		return &Violation{Rule: RuleTooLong, Message: fmt.Sprintf("use at most %d characters", p.MaxLength)}
	}
	return nil
}

// containsUsername reports whether password contains username, ignoring
// case, for usernames of at least minUsernameCheck runes.
func containsUsername(username, password string) bool {
	if utf8.RuneCountInString(username) < minUsernameCheck {
		return false
	}
	return strings.Contains(strings.ToLower(password), strings.ToLower(username))
}

// classes counts the character classes in s: lowercase, uppercase, digits,
// and symbols. Anything that is not a cased letter or a digit, including
// letters of scripts without case, counts as a symbol.
func classes(s string) int {
	var lower, upper, digit, symbol int
	for _, r := range s {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			symbol = 1
		}
	}
	return lower + upper + digit + symbol
}

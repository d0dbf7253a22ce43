//go:build ignore

// Command gen_blocklist writes blocklist.txt: common and breached password
// patterns built from well-known public lists (top passwords, keyboard walks,
// season/month + year, word + digits/symbols, names + digits, and words from
// the healthcare setting Tether runs in). Output is lowercased, deduplicated,
// sorted, one per line, and deterministic.
//
// Run it with go generate.
package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

var top = []string{
	"123456", "123456789", "12345678", "1234567890", "1234567", "12345", "111111",
	"000000", "00000000", "11111111", "121212", "123123", "123321", "654321",
	"666666", "696969", "777777", "7777777", "888888", "987654321", "0987654321",
	"112233", "123654", "147258369", "159753", "1q2w3e", "1q2w3e4r", "1q2w3e4r5t",
	"1qaz2wsx", "1qaz2wsx3edc", "qazwsx", "qazwsxedc", "zaq12wsx", "zaq1zaq1",
	"password", "passw0rd", "p@ssw0rd", "p@ssword", "pa55word", "pa55w0rd",
	"letmein", "welcome", "admin", "administrator", "changeme", "monkey",
	"dragon", "football", "baseball", "basketball", "soccer", "hockey",
	"iloveyou", "trustno1", "sunshine", "master", "shadow", "superman",
	"batman", "princess", "login", "abc123", "abcd1234", "abcdef", "starwars",
	"whatever", "freedom", "hello", "helloworld", "secret", "default", "guest",
	"root", "toor", "test", "tester", "testing", "user", "temp", "temppass",
	"michael", "mustang", "access", "flower", "lovely", "loveme", "qwerty",
	"qwertyuiop", "asdfgh", "asdfghjkl", "zxcvbnm", "computer", "internet",
	"cheese", "chocolate", "cookie", "pepper", "ginger", "hunter", "ranger",
	"buster", "killer", "jordan", "jordan23", "harley", "charlie", "thomas",
	"tigger", "matrix", "ninja", "pokemon", "naruto", "minecraft", "fortnite",
	"google", "facebook", "linkedin", "microsoft", "windows", "apple",
	"samsung", "summer", "winter", "spring", "autumn", "fall", "security",
	"letmein1", "welcome1", "password1", "passw0rd1", "adminadmin", "qwerty123",
	"qwe123", "asd123", "zxc123", "aa123456", "a123456", "a1b2c3", "a1b2c3d4",
	"secret123", "pass", "pass123", "pass1234", "mypassword", "newpassword",
	"oldpassword", "nopassword", "password!", "iloveyou1", "princess1",
	"sunshine1", "football1", "baseball1", "monkey1", "dragon1", "master1",
	"superman1", "starwars1", "trustno1!", "q1w2e3r4", "q1w2e3r4t5",
	"1password", "password12", "password1234", "qwertyui", "1qazxsw2",
	"abc12345", "test123", "test1234", "user123", "guest123", "root123",
	"default1", "changeme1", "changeme123", "letmein123", "welcome123",
	"welcome2", "welcome01", "hello123", "iloveu", "loveyou", "lovelove",
	"baby123", "angel", "angel1", "jesus", "jesus1", "blessed", "god",
	"heaven", "soccer1", "hockey1", "liverpool", "chelsea", "arsenal",
	"yankees", "cowboys", "steelers", "eagles", "lakers", "patriots",
}

var words = []string{
	"password", "passw0rd", "p@ssw0rd", "p@ssword", "welcome", "letmein",
	"admin", "administrator", "changeme", "monkey", "dragon", "qwerty",
	"master", "shadow", "sunshine", "princess", "football", "baseball",
	"superman", "iloveyou", "secret", "login", "guest", "user", "test",
	"temp", "default", "support", "helpdesk", "service", "server", "system",
	"company", "office", "secure", "security", "access", "remote", "tether",
	"hospital", "nurse", "nursing", "doctor", "clinic", "medical", "medicine",
	"health", "healthcare", "patient", "patients", "pharmacy", "surgery",
	"surgeon", "hipaa", "emergency", "radiology", "cardiology", "oncology",
	"pediatrics", "therapy", "dental", "dentist", "care", "caring", "nurses",
	"physician", "medic", "paramedic", "ambulance", "lab", "laboratory",
	"records", "chart", "epic", "cerner", "meditech", "allscripts",
	"summer", "winter", "spring", "autumn", "fall", "monday", "friday",
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
	"michael", "jennifer", "jessica", "ashley", "david", "john", "robert",
	"james", "william", "richard", "joseph", "thomas", "daniel", "matthew",
	"christopher", "andrew", "joshua", "mary", "patricia", "linda",
	"barbara", "elizabeth", "susan", "sarah", "karen", "nancy", "lisa",
	"emily", "amanda", "melissa", "michelle", "stephanie", "nicole",
	"samantha", "charlie", "maggie", "buddy", "bailey", "max", "daisy",
	"lucky", "tigger", "jordan", "hunter", "ranger", "buster", "soccer",
	"hockey", "love", "angel", "baby", "flower", "family", "freedom",
	"america", "liberty", "chocolate", "computer", "internet", "starwars",
	"pokemon", "batman", "spiderman", "hello", "whatever", "abc", "qwe",
}

var suffixes = []string{
	"", "1", "12", "123", "1234", "12345", "!", "1!", "123!", "@123", "#1", "01",
}

// leet lists the words also added in leetspeak spellings.
var leet = []string{
	"password", "welcome", "admin", "letmein", "changeme", "secret", "master",
	"hospital", "nurse", "doctor", "medical", "health", "patient", "summer",
	"winter", "spring", "tether", "support", "security", "monkey", "dragon",
}

var seasons = []string{"summer", "winter", "spring", "autumn", "fall"}

var months = []string{
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
}

var rows = []string{
	"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "!@#$%^&*()",
	"1qaz2wsx3edc4rfv", "qazwsxedcrfv", "zaq1xsw2cde3", "1q2w3e4r5t6y",
	"qweasdzxc", "147258369", "789456123", "741852963", "963852741",
}

func main() {
	set := map[string]bool{}
	add := func(s string) {
		s = strings.ToLower(s)
		if len(s) >= 6 {
			set[s] = true
		}
	}
	for _, s := range top {
		add(s)
	}
	walks(add)
	wordsWithSuffixes(add)
	datePatterns(add)
	digitRuns(add)

	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	f, err := os.Create("blocklist.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen_blocklist:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(f)
	for _, s := range out {
		fmt.Fprintln(w, s)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen_blocklist:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gen_blocklist:", err)
		os.Exit(1)
	}
}

// walks adds keyboard walks: every run of 6..16 keys along a row, forwards
// and backwards, doubled short runs, and runs with common suffixes.
func walks(add func(string)) {
	for _, row := range rows {
		for n := 6; n <= len(row) && n <= 16; n++ {
			for i := 0; i+n <= len(row); i++ {
				run := row[i : i+n]
				add(run)
				add(reverse(run))
				add(run + "1")
				add(run + "!")
			}
		}
		for n := 3; n <= 5 && n <= len(row); n++ {
			add(row[:n] + row[:n])
			add(row[:n] + "123")
		}
	}
}

// wordsWithSuffixes adds each word, plain and with leetspeak, followed by
// each common suffix and by a year.
func wordsWithSuffixes(add func(string)) {
	for _, w := range words {
		vs := []string{w}
		if slices.Contains(leet, w) {
			vs = variants(w)
		}
		for _, v := range vs {
			for _, s := range suffixes {
				add(v + s)
			}
			for y := 2019; y <= 2027; y++ {
				add(v + strconv.Itoa(y))
				add(v + strconv.Itoa(y) + "!")
			}
		}
	}
}

// datePatterns adds season and month names with years, the most common
// pattern for passwords set to satisfy a rotation policy.
func datePatterns(add func(string)) {
	for _, s := range slices.Concat(seasons, months) {
		for y := 2015; y <= 2028; y++ {
			for _, sep := range []string{"", "@"} {
				for _, end := range []string{"", "!", "#", "1", "@"} {
					add(s + sep + strconv.Itoa(y) + end)
				}
			}
			add(s + fmt.Sprintf("%02d", y%100))
			add(s + fmt.Sprintf("%02d", y%100) + "!")
		}
	}
}

// digitRuns adds repeated digits and ascending/descending runs.
func digitRuns(add func(string)) {
	for d := '0'; d <= '9'; d++ {
		for n := 6; n <= 12; n++ {
			add(strings.Repeat(string(d), n))
		}
	}
	for start := 0; start <= 9; start++ {
		var up, down strings.Builder
		for i := 0; i < 12; i++ {
			up.WriteByte(byte('0' + (start+i)%10))
			down.WriteByte(byte('0' + (start-i+20)%10))
			add(up.String())
			add(down.String())
		}
	}
}

// variants returns w and its common leetspeak spellings.
func variants(w string) []string {
	out := []string{w}
	for _, r := range []*strings.Replacer{
		strings.NewReplacer("a", "@"),
		strings.NewReplacer("o", "0"),
		strings.NewReplacer("a", "@", "o", "0"),
		strings.NewReplacer("e", "3", "a", "4", "o", "0", "i", "1", "s", "5"),
		strings.NewReplacer("s", "$", "i", "1"),
	} {
		if v := r.Replace(w); v != w && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}

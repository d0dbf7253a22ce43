package trust_test

import (
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// Example shows the whole flow: a two-person root, a policy signed by both
// administrators, and an agent-side check with rollback protection.
func Example() {
	alice, _ := trust.GenerateKey(nil)
	bob, _ := trust.GenerateKey(nil)
	now := time.Now()

	rootBody, _ := trust.NewRootBody("Example Hospital", 2, alice.Public(), bob.Public())
	rootDoc, _ := trust.NewDocument(rootBody, 1, now, time.Time{})
	_ = rootDoc.Sign(alice, bob)
	root, err := trust.VerifyRoot(rootDoc.Encode(), now)
	fmt.Println("root:", err)

	policy := &trust.PolicyBody{Recipients: []string{"tether-rec1-example"}, IdleSeconds: 900, AbsoluteSeconds: 14400}
	doc, _ := trust.NewDocument(policy, 7, now, now.Add(30*24*time.Hour))
	_ = doc.Sign(alice)
	_, _, err = trust.Open[*trust.PolicyBody](root, doc.Encode(), now)
	fmt.Println("one signature:", err != nil)
	_ = doc.Sign(bob)
	p, d, err := trust.Open[*trust.PolicyBody](root, doc.Encode(), now)
	fmt.Println("two signatures:", err, p.IdleSeconds)

	pinned := trust.Pinned{Kind: trust.KindPolicy, Highest: 8}
	_, err = pinned.Accept(d.Version)
	fmt.Println(err)
	// Output:
	// root: <nil>
	// one signature: true
	// two signatures: <nil> 900
	// policy version 7 is older than version 8 already seen: rollback refused
}

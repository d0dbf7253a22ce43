package e2e

import (
	"bytes"
	"testing"
)

func TestExporterIsSharedAndFresh(t *testing.T) {
	a, b := handshake(t)
	if len(a.Exporter) != 32 || !bytes.Equal(a.Exporter, b.Exporter) {
		t.Fatalf("exporters differ or have the wrong size: %x vs %x", a.Exporter, b.Exporter)
	}
	c, _ := handshake(t)
	if bytes.Equal(a.Exporter, c.Exporter) {
		t.Fatal("two sessions exported the same secret")
	}
}

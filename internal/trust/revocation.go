package trust

import "slices"

// RevocationBody lists what is revoked. Version and expiry are the
// document's; a later list replaces an earlier one entirely.
type RevocationBody struct {
	// TechCerts are revoked technician certificate IDs (see CertID).
	TechCerts []KeyID
	// ReviewerKeys are revoked recording reviewer key IDs.
	ReviewerKeys []KeyID
	// AdminKeys are revoked administrator key IDs.
	AdminKeys []KeyID
}

// Kind is KindRevocation.
func (*RevocationBody) Kind() Kind { return KindRevocation }

func (rv *RevocationBody) encode(w *writer) error {
	if err := writeKeyIDs(w, "revoked technician certificates", rv.TechCerts); err != nil {
		return err
	}
	if err := writeKeyIDs(w, "revoked reviewer keys", rv.ReviewerKeys); err != nil {
		return err
	}
	return writeKeyIDs(w, "revoked administrator keys", rv.AdminKeys)
}

func readRevocation(r *reader) *RevocationBody {
	return &RevocationBody{
		TechCerts:    readKeyIDs(r, "revoked technician certificates"),
		ReviewerKeys: readKeyIDs(r, "revoked reviewer keys"),
		AdminKeys:    readKeyIDs(r, "revoked administrator keys"),
	}
}

// RevokesCert reports whether the technician certificate id is revoked.
func (rv *RevocationBody) RevokesCert(id KeyID) bool { return containsID(rv.TechCerts, id) }

// RevokesReviewer reports whether the reviewer key id is revoked.
func (rv *RevocationBody) RevokesReviewer(id KeyID) bool { return containsID(rv.ReviewerKeys, id) }

// RevokesAdmin reports whether the administrator key id is revoked.
func (rv *RevocationBody) RevokesAdmin(id KeyID) bool { return containsID(rv.AdminKeys, id) }

func containsID(ids []KeyID, id KeyID) bool { return slices.Contains(ids, id) }

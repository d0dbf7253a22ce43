//go:build !unix

package broker

// oNoFollow is 0 where the platform has no O_NOFOLLOW (Windows); the
// regular-file check after opening still refuses anything else.
const oNoFollow = 0

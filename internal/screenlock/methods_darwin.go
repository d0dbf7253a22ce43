package screenlock

// platformMethods returns the macOS lock methods, best first. Putting the
// display to sleep locks the screen when "require password after sleep" is
// on (the default); CGSession -suspend switches to the login window.
func platformMethods() []candidate {
	return []candidate{
		cmd("pmset", "displaysleepnow"),
		cmd("/System/Library/CoreServices/Menu Extras/User.menu/Contents/Resources/CGSession", "-suspend"),
	}
}

package screenlock

// platformMethods returns the Windows lock method.
func platformMethods() []candidate {
	return []candidate{cmd("rundll32.exe", "user32.dll,LockWorkStation")}
}

package flows

import "embed"

// Default holds the scripts and transcript tests shipped with the binary, so the service
// runs without a flows folder; a support officer's edited folder can be loaded instead
// with Load(os.DirFS(dir)).
//
//go:embed *.yaml
var Default embed.FS

package api

import (
	"path/filepath"

	"github.com/imsid/imsid/profiles"
)

func apiSection(dir, tokenFile string) profiles.API {
	return profiles.API{
		Socket: filepath.Join(dir, "imsid.sock"), SocketMode: 0o660,
		Listen: "127.0.0.1:0", TokenFile: tokenFile, TokenForReads: true,
	}
}

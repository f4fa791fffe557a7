package discord_test

import (
	"strings"
	"testing"

	"intake/bot/discord"
)

func TestConfigFromEnv(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.secret-part-never-shown"
	tests := []struct {
		name    string
		env     map[string]string
		on      bool
		want    discord.Config
		wantErr string
	}{
		{name: "not configured", env: map[string]string{discord.EnvChannel: "123"}},
		{
			name: "token only", on: true,
			env:  map[string]string{discord.EnvToken: token},
			want: discord.Config{Token: token},
		},
		{
			name: "everything, Bot prefix and spaces", on: true,
			env: map[string]string{
				discord.EnvToken: " Bot " + token + "\n", discord.EnvChannel: " 900000000000000009 ",
				discord.EnvCounsellors: "200000000000000021:Anna, 200000000000000022 : bram",
			},
			want: discord.Config{Token: token, CounsellorChannel: "900000000000000009",
				Counsellors: map[string]string{"200000000000000021": "anna", "200000000000000022": "bram"}},
		},
		{name: "empty token", on: true, env: map[string]string{discord.EnvToken: "  "}, wantErr: "INTAKE_DISCORD_TOKEN is empty"},
		{name: "token with a space", on: true, env: map[string]string{discord.EnvToken: "abc.def ghi.jkl"}, wantErr: "spaces"},
		{name: "client secret instead of token", on: true, env: map[string]string{discord.EnvToken: "Xq3kLmN0pQrStUvWxYz0123456789abc"}, wantErr: "does not look like a bot token"},
		{name: "channel name", on: true, env: map[string]string{discord.EnvToken: token, discord.EnvChannel: "#counsellors"}, wantErr: "INTAKE_DISCORD_CHANNEL must be a channel id"},
		{name: "counsellor without channel", on: true, env: map[string]string{discord.EnvToken: token, discord.EnvCounsellors: "1:anna"}, wantErr: "INTAKE_DISCORD_CHANNEL is not"},
		{name: "counsellor without colon", on: true, env: map[string]string{discord.EnvToken: token, discord.EnvChannel: "9", discord.EnvCounsellors: "1:anna,2"}, wantErr: "entry 2"},
		{name: "counsellor by name", on: true, env: map[string]string{discord.EnvToken: token, discord.EnvChannel: "9", discord.EnvCounsellors: "anna#1234:anna"}, wantErr: "not a Discord user id"},
		{name: "bad account", on: true, env: map[string]string{discord.EnvToken: token, discord.EnvChannel: "9", discord.EnvCounsellors: "1:Anna Smit"}, wantErr: "not a desk account name"},
		{name: "twice", on: true, env: map[string]string{discord.EnvToken: token, discord.EnvChannel: "9", discord.EnvCounsellors: "1:anna,1:bram"}, wantErr: "listed twice"},
		{name: "trailing comma", on: true, env: map[string]string{discord.EnvToken: token, discord.EnvChannel: "9", discord.EnvCounsellors: "1:anna,"}, wantErr: "entry 2 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, on, err := discord.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if on != tt.on {
				t.Errorf("configured = %v, want %v", on, tt.on)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret-part") || strings.Contains(err.Error(), "ghi") || strings.Contains(err.Error(), "Xq3k") {
					t.Errorf("the error shows the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Token != tt.want.Token || cfg.CounsellorChannel != tt.want.CounsellorChannel || len(cfg.Counsellors) != len(tt.want.Counsellors) {
				t.Fatalf("config %+v, want %+v", cfg, tt.want)
			}
			for id, name := range tt.want.Counsellors {
				if cfg.Counsellors[id] != name {
					t.Errorf("counsellor %s = %q, want %q", id, cfg.Counsellors[id], name)
				}
			}
		})
	}
}

func TestNewRefusesIncompleteSetup(t *testing.T) {
	const token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.secret-part-never-shown"
	for _, tt := range []struct {
		name string
		cfg  discord.Config
		want string
	}{
		{"no replica", discord.Config{Token: token}, "Replica"},
		{"no token", discord.Config{Replica: "r1"}, "INTAKE_DISCORD_TOKEN"},
		{"no engine", discord.Config{Token: token, Replica: "r1"}, "Engine"},
	} {
		_, err := discord.New(tt.cfg, discord.Deps{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret-part") {
			t.Errorf("%s: error %v", tt.name, err)
		}
	}
}

package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// watchSpot polls the instance metadata service (IMDSv2) for a spot interruption notice and
// reports the first one: EC2 gives two minutes' warning, enough for the last snapshot.
func watchSpot(ctx context.Context, base string, every time.Duration, log *slog.Logger, going chan<- string) {
	c := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		notice, err := spotNotice(ctx, c, base)
		if err != nil && ctx.Err() == nil {
			log.Debug("spot interruption notice not read", "err", err)
		}
		if notice != "" {
			select {
			case going <- "spot interruption notice: " + notice:
			case <-ctx.Done():
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// spotNotice returns the body of latest/meta-data/spot/instance-action, or "" when there is
// none (404: no interruption scheduled).
func spotNotice(ctx context.Context, c *http.Client, base string) (string, error) {
	base = strings.TrimSuffix(base, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/latest/api/token", nil)
	if err != nil {
		return "", fmt.Errorf("IMDS token request: %w", err)
	}
	req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "300")
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("IMDS token: %w", err)
	}
	tok, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("IMDS token: status %s: %v", resp.Status, err)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/latest/meta-data/spot/instance-action", nil)
	if err != nil {
		return "", fmt.Errorf("IMDS instance-action request: %w", err)
	}
	req.Header.Set("X-aws-ec2-metadata-token", string(tok))
	resp, err = c.Do(req)
	if err != nil {
		return "", fmt.Errorf("IMDS instance-action: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", nil
	case resp.StatusCode != http.StatusOK || err != nil:
		return "", fmt.Errorf("IMDS instance-action: status %s: %v", resp.Status, err)
	}
	return strings.TrimSpace(string(body)), nil
}

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

// spotFailuresBeforeWarning is how many polls in a row may fail before the agent says so: one
// can fail while the node's network settles; a run of them means the pod cannot reach IMDS.
const spotFailuresBeforeWarning = 3

// spotBackoff is how often a watch that cannot reach IMDS tries again: the failure is a setting
// of the node (an IMDSv2 hop limit of 1, Karpenter's default, drops the token's answer before it
// reaches a pod outside the host's network), not a blip, and each try waits out the client's
// timeout.
const spotBackoff = time.Minute

// watchSpot polls the instance metadata service (IMDSv2) for a spot interruption notice and
// reports the first one: EC2 gives two minutes' warning, enough for the last snapshot.
func watchSpot(ctx context.Context, base string, every time.Duration, log *slog.Logger, going chan<- string) {
	c := &http.Client{Timeout: 2 * time.Second}
	failed := 0
	for {
		notice, err := spotNotice(ctx, c, base)
		wait := every
		switch {
		case err == nil:
			if failed >= spotFailuresBeforeWarning {
				log.Info("IMDS reachable again: watching for spot interruption notices")
			}
			failed = 0
		case ctx.Err() != nil:
			return
		default:
			failed++
			log.Debug("spot interruption notice not read", "err", err)
			if failed == spotFailuresBeforeWarning {
				log.Warn("IMDS not reachable: spot interruption notices will not be seen (a cordon or drain still takes the last snapshot); "+
					"with an IMDSv2 hop limit of 1 a pod reaches IMDS only on the host's network (chart: agent.hostNetwork=true)",
					"imds", base, "failures", failed, "err", err, "retry_every", spotBackoff)
			}
			if failed >= spotFailuresBeforeWarning {
				wait = max(every, spotBackoff)
			}
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
		case <-time.After(wait):
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

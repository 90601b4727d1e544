package awsfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// ec2StateCodes are EC2's numeric instance state codes.
var ec2StateCodes = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

// EC2 Query XML response shapes (only the fields nodediag reads, plus ids).
type (
	ec2Tag struct {
		Key   string `xml:"key"`
		Value string `xml:"value"`
	}
	ec2Instance struct {
		InstanceID     string   `xml:"instanceId"`
		StateCode      int      `xml:"instanceState>code"`
		StateName      string   `xml:"instanceState>name"`
		PrivateDNSName string   `xml:"privateDnsName,omitempty"`
		LaunchTime     string   `xml:"launchTime,omitempty"`
		AZ             string   `xml:"placement>availabilityZone,omitempty"`
		Tags           []ec2Tag `xml:"tagSet>item"`
	}
	ec2Reservation struct {
		ReservationID string        `xml:"reservationId"`
		Instances     []ec2Instance `xml:"instancesSet>item"`
	}
	ec2DescribeResponse struct {
		XMLName      xml.Name         `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeInstancesResponse"`
		RequestID    string           `xml:"requestId"`
		Reservations []ec2Reservation `xml:"reservationSet>item"`
	}
	ec2ErrorResponse struct {
		XMLName   xml.Name `xml:"Response"`
		Code      string   `xml:"Errors>Error>Code"`
		Message   string   `xml:"Errors>Error>Message"`
		RequestID string   `xml:"RequestID"`
	}
)

// serveEC2 answers EC2 Query requests: form-encoded POST with Action=DescribeInstances.
func (a *Account) serveEC2(w http.ResponseWriter, r *http.Request, region string) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		ec2Error(w, http.StatusBadRequest, "MalformedQueryString", err.Error())
		return
	}
	action := form.Get("Action")
	a.record("ec2", action, region, r, body)
	var ids []string
	for k, v := range form {
		if strings.HasPrefix(k, "InstanceId.") {
			ids = append(ids, v...)
		}
	}
	sort.Strings(ids)
	if f := a.faultFor(action, first(ids)); f != nil && f.Code != "" {
		ec2Error(w, statusOr(f.Status, http.StatusBadRequest), f.Code, f.Message)
		return
	}
	if action != "DescribeInstances" {
		ec2Error(w, http.StatusBadRequest, "InvalidAction", "The action "+action+" is not valid for this web service.")
		return
	}
	filters := ec2Filters(form)
	a.mu.Lock()
	var found []Instance
	var missing []string
	if len(ids) == 0 {
		for _, in := range a.instances {
			if in.Region == region && matches(in, filters) {
				found = append(found, in)
			}
		}
		sort.Slice(found, func(i, j int) bool { return found[i].ID < found[j].ID })
	}
	for _, id := range ids {
		if in, ok := a.instances[id]; ok && in.Region == region {
			found = append(found, in)
		} else {
			missing = append(missing, id)
		}
	}
	a.mu.Unlock()
	if len(missing) > 0 {
		// EC2 rejects the whole call when any listed id is unknown in the region.
		ec2Error(w, http.StatusBadRequest, "InvalidInstanceID.NotFound",
			fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(missing, ", ")))
		return
	}
	resp := ec2DescribeResponse{RequestID: "req-describe"}
	for i, in := range found {
		x := ec2Instance{InstanceID: in.ID, StateCode: ec2StateCodes[in.State], StateName: in.State, PrivateDNSName: in.PrivateDNSName, AZ: in.AZ}
		if !in.LaunchTime.IsZero() {
			x.LaunchTime = in.LaunchTime.UTC().Format(time.RFC3339)
		}
		keys := make([]string, 0, len(in.Tags))
		for k := range in.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			x.Tags = append(x.Tags, ec2Tag{Key: k, Value: in.Tags[k]})
		}
		resp.Reservations = append(resp.Reservations, ec2Reservation{ReservationID: fmt.Sprintf("r-%017x", i+1), Instances: []ec2Instance{x}})
	}
	writeXML(w, http.StatusOK, resp)
}

// ec2Filters reads the Query protocol's Filter.N.Name and Filter.N.Value.M into name → values.
func ec2Filters(form url.Values) map[string][]string {
	out := map[string][]string{}
	for k, v := range form {
		n, ok := strings.CutPrefix(k, "Filter.")
		if !ok || !strings.HasSuffix(n, ".Name") || len(v) == 0 {
			continue
		}
		prefix := "Filter." + strings.TrimSuffix(n, ".Name") + ".Value."
		var vals []string
		for k2, v2 := range form {
			if strings.HasPrefix(k2, prefix) {
				vals = append(vals, v2...)
			}
		}
		out[v[0]] = vals
	}
	return out
}

// matches applies the filters EC2 documents for tags (tag:KEY) and the state
// (instance-state-name); a value list matches when any value does. Other filters are refused
// by matching nothing, so a test cannot pass on a filter the fake ignores.
func matches(in Instance, filters map[string][]string) bool {
	for name, vals := range filters {
		var have string
		switch key, isTag := strings.CutPrefix(name, "tag:"); {
		case isTag:
			v, ok := in.Tags[key]
			if !ok {
				return false
			}
			have = v
		case name == "instance-state-name":
			have = in.State
		default:
			return false
		}
		if !slices.Contains(vals, have) {
			return false
		}
	}
	return true
}

// ec2Error writes EC2's error document.
func ec2Error(w http.ResponseWriter, status int, code, message string) {
	writeXML(w, status, ec2ErrorResponse{Code: code, Message: message, RequestID: "req-error"})
}

// writeXML writes v as an XML document.
func writeXML(w http.ResponseWriter, status int, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// statusOr returns status, or def when it is 0.
func statusOr(status, def int) int {
	if status == 0 {
		return def
	}
	return status
}

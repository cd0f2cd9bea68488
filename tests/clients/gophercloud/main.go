// gophercloud-smoke -- a real Go client (gophercloud 0.12, Debian 12's
// golang-github-gophercloud-gophercloud-dev) driven against mockcloud.
//
// It is configured only by a clouds.yaml, read with gophercloud/utils'
// clientconfig exactly as a Go tool (terraform's provider, for one) reads it:
// OS_CLOUD names the cloud (default "mockcloud") and OS_CLIENT_CONFIG_FILE the
// file. It walks the path a typical Go tool takes, one numbered step at a
// time, and prints "OK" or "FAIL: <error>" for each (or "SKIP" when a step it
// depends on failed). It cleans up what it created, even after a failure, and
// exits 1 if any step failed.
//
// Steps: Keystone v3 password auth with project scope, the catalog, flavors,
// images and networks listed, a keypair, a network + subnet + port, a security
// group with a rule, a server booted on the network (servers.WaitForStatus
// ACTIVE) and its addresses, a router with an external gateway and an
// interface on the subnet, a floating IP from the external network associated
// with the server's port, a Glance image created with data uploaded and read
// back, pagination.Pager over servers, ports and images with a small limit
// (next links must be followed and every item seen once), then every resource
// deleted (the server waited for until it is gone).
//
// MOCKCLOUD_GO_DEBUG=1 prints every request and response status to stderr.
//
// Build (GOPATH mode, offline, Debian's gocode tree):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gophercloud-smoke .
package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/ioutil"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud"
	"github.com/gophercloud/gophercloud/openstack"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/attachinterfaces"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/availabilityzones"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/extendedstatus"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/instanceactions"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/keypairs"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/limits"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/quotasets"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/servergroups"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/serverusage"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/startstop"
	servertags "github.com/gophercloud/gophercloud/openstack/compute/v2/extensions/tags"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/flavors"
	novaimages "github.com/gophercloud/gophercloud/openstack/compute/v2/images"
	"github.com/gophercloud/gophercloud/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/openstack/imageservice/v2/imagedata"
	"github.com/gophercloud/gophercloud/openstack/imageservice/v2/images"
	neutronext "github.com/gophercloud/gophercloud/openstack/networking/v2/extensions"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/extensions/attributestags"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/extensions/external"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/extensions/layer3/routers"
	netquotas "github.com/gophercloud/gophercloud/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/openstack/networking/v2/subnets"
	"github.com/gophercloud/gophercloud/pagination"
	"github.com/gophercloud/utils/openstack/clientconfig"
)

// errSkip marks a step that could not run because an earlier one failed.
var errSkip = errors.New("skipped")

type smoke struct {
	n, failed, skipped int
	cleanups           []cleanup
}

type cleanup struct {
	name string
	fn   func() error
}

// step runs fn and prints its outcome on one line.
func (s *smoke) step(name string, fn func() error) bool {
	s.n++
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return fn()
	}()
	ms := time.Since(start).Milliseconds()
	switch {
	case err == nil:
		fmt.Printf("%3d %-50s OK (%d ms)\n", s.n, name, ms)
		return true
	case errors.Is(err, errSkip):
		s.skipped++
		fmt.Printf("%3d %-50s SKIP\n", s.n, name)
	default:
		s.failed++
		fmt.Printf("%3d %-50s FAIL: %s\n", s.n, name, oneLine(err.Error()))
	}
	return false
}

// defer_ registers a deletion to run at the end (last registered, first run).
func (s *smoke) defer_(name string, fn func() error) {
	s.cleanups = append(s.cleanups, cleanup{name, fn})
}

// drop removes a registered deletion (it ran as a step already).
func (s *smoke) drop(name string) {
	for i, c := range s.cleanups {
		if c.name == name {
			s.cleanups = append(s.cleanups[:i], s.cleanups[i+1:]...)
			return
		}
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// need returns errSkip unless every id is set.
func need(ids ...string) error {
	for _, id := range ids {
		if id == "" {
			return errSkip
		}
	}
	return nil
}

// debugTransport logs each request and its status to stderr.
type debugTransport struct{ rt http.RoundTripper }

func (d debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := d.rt.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(os.Stderr, "  > %s %s: %v\n", req.Method, req.URL, err)
		return resp, err
	}
	fmt.Fprintf(os.Stderr, "  > %s %s -> %d\n", req.Method, req.URL, resp.StatusCode)
	return resp, err
}

// is404 tells whether err is gophercloud's 404.
func is404(err error) bool {
	var e gophercloud.ErrDefault404
	return errors.As(err, &e)
}

// waitGone polls get until it answers 404.
func waitGone(secs int, get func() error) error {
	return gophercloud.WaitFor(secs, func() (bool, error) {
		err := get()
		if err == nil {
			return false, nil
		}
		if is404(err) {
			return true, nil
		}
		return false, err
	})
}

// pageAll walks a pager page by page and returns the ids seen and the number
// of pages. A repeated id is an error: the next link did not advance.
func pageAll(p pagination.Pager, ids func(pagination.Page) ([]string, error)) ([]string, int, error) {
	var all []string
	seen := map[string]bool{}
	pages := 0
	err := p.EachPage(func(page pagination.Page) (bool, error) {
		pages++
		got, err := ids(page)
		if err != nil {
			return false, err
		}
		for _, id := range got {
			if seen[id] {
				return false, fmt.Errorf("id %s seen twice (page %d): the next link does not advance", id, pages)
			}
			seen[id] = true
			all = append(all, id)
		}
		if pages > 100 {
			return false, fmt.Errorf("more than 100 pages: the next link loops")
		}
		return true, nil
	})
	return all, pages, err
}

func contains(all []string, want ...string) error {
	have := map[string]bool{}
	for _, id := range all {
		have[id] = true
	}
	for _, w := range want {
		if !have[w] {
			return fmt.Errorf("%s missing from the paged list (%d items seen)", w, len(all))
		}
	}
	return nil
}

func main() {
	s := &smoke{}
	timeout := 120
	cloudName := os.Getenv("OS_CLOUD")
	if cloudName == "" {
		cloudName = "mockcloud"
	}
	suffix := fmt.Sprintf("%d", time.Now().UnixNano()%1000000)
	name := func(what string) string { return "gophercloud-" + what + "-" + suffix }

	var (
		provider                   *gophercloud.ProviderClient
		eo                         gophercloud.EndpointOpts
		projectID, userID          string
		compute, network, image    *gophercloud.ServiceClient
		flavorID, imageID, extNet  string
		netID, subnetID, portID    string
		sgID, ruleID, keyName      string
		serverID, server2ID        string
		serverPortID, routerID     string
		fipID, fipAddr, newImageID string
		extraPorts                 []string
	)

	s.step("clouds.yaml: auth (Keystone v3, project scope)", func() error {
		opts := &clientconfig.ClientOpts{Cloud: cloudName}
		cloud, err := clientconfig.GetCloudFromYAML(opts)
		if err != nil {
			return fmt.Errorf("clouds.yaml: %w", err)
		}
		ao, err := clientconfig.AuthOptions(opts)
		if err != nil {
			return fmt.Errorf("clouds.yaml auth: %w", err)
		}
		ao.AllowReauth = true
		pc, err := openstack.NewClient(ao.IdentityEndpoint)
		if err != nil {
			return err
		}
		if os.Getenv("MOCKCLOUD_GO_DEBUG") != "" {
			pc.HTTPClient.Transport = debugTransport{http.DefaultTransport}
		}
		if err := openstack.Authenticate(pc, *ao); err != nil {
			return err
		}
		if pc.Token() == "" {
			return fmt.Errorf("no token")
		}
		res, ok := pc.GetAuthResult().(tokens.CreateResult)
		if !ok {
			return fmt.Errorf("auth result is %T, not a v3 token", pc.GetAuthResult())
		}
		project, err := res.ExtractProject()
		if err != nil {
			return err
		}
		if project == nil || project.Name != cloud.AuthInfo.ProjectName {
			return fmt.Errorf("token scoped to %+v, not project %q", project, cloud.AuthInfo.ProjectName)
		}
		iface := cloud.EndpointType
		if iface == "" {
			iface = cloud.Interface
		}
		eo = gophercloud.EndpointOpts{Region: cloud.RegionName, Availability: clientconfig.GetEndpointType(iface)}
		user, err := res.ExtractUser()
		if err != nil {
			return err
		}
		projectID, userID = project.ID, user.ID
		provider = pc
		return nil
	})

	// Each service's endpoint on its own, so that a catalog without one
	// service still lets the steps of the others run.
	s.step("catalog: compute, network, image endpoints", func() error {
		if provider == nil {
			return errSkip
		}
		res := provider.GetAuthResult().(tokens.CreateResult)
		cat, err := res.ExtractServiceCatalog()
		if err != nil {
			return err
		}
		types := map[string]int{}
		for _, e := range cat.Entries {
			types[e.Type] = len(e.Endpoints)
		}
		var errs []string
		if compute, err = openstack.NewComputeV2(provider, eo); err != nil {
			compute = nil
			errs = append(errs, "compute: "+err.Error())
		}
		if network, err = openstack.NewNetworkV2(provider, eo); err != nil {
			network = nil
			errs = append(errs, "network: "+err.Error())
		}
		if image, err = openstack.NewImageServiceV2(provider, eo); err != nil {
			image = nil
			errs = append(errs, "image: "+err.Error())
		}
		if len(errs) > 0 {
			return fmt.Errorf("%s (catalog: %v, wanted region %q interface %q)", strings.Join(errs, "; "), types, eo.Region, eo.Availability)
		}
		// The token is valid for the identity service too.
		id, err := openstack.NewIdentityV3(provider, gophercloud.EndpointOpts{})
		if err != nil {
			return err
		}
		ok, err := tokens.Validate(id, provider.Token())
		if err == nil && !ok {
			err = fmt.Errorf("own token not valid")
		}
		return err
	})

	s.step("token: validate, read expiry, user, roles", func() error {
		if provider == nil {
			return errSkip
		}
		id, err := openstack.NewIdentityV3(provider, gophercloud.EndpointOpts{})
		if err != nil {
			return err
		}
		res := tokens.Get(id, provider.Token())
		tok, err := res.ExtractToken()
		if err != nil {
			return err
		}
		if tok.ID != provider.Token() {
			return fmt.Errorf("validated token id %q", tok.ID)
		}
		if d := time.Until(tok.ExpiresAt); d < time.Minute || d > 48*time.Hour {
			return fmt.Errorf("token expires_at %s, %s from now", tok.ExpiresAt, d)
		}
		user, err := res.ExtractUser()
		if err != nil {
			return err
		}
		roles, err := res.ExtractRoles()
		if err != nil {
			return err
		}
		if user.ID == "" || user.Name == "" || len(roles) == 0 {
			return fmt.Errorf("user %+v roles %+v", user, roles)
		}
		// The user's own projects (what a tool offers to switch to).
		pages, err := users.ListProjects(id, userID).AllPages()
		if err != nil {
			return fmt.Errorf("GET /v3/users/{id}/projects: %w", err)
		}
		var body struct {
			Projects []struct{ ID, Name string } `json:"projects"`
		}
		if err := pages.(interface{ ExtractInto(interface{}) error }).ExtractInto(&body); err != nil {
			return err
		}
		for _, p := range body.Projects {
			if p.ID == projectID {
				return nil
			}
		}
		return fmt.Errorf("the token's project %s is not among the user's projects %+v", projectID, body.Projects)
	})

	s.step("compute: limits and availability zones", func() error {
		if compute == nil {
			return errSkip
		}
		l, err := limits.Get(compute, nil).Extract()
		if err != nil {
			return err
		}
		if l.Absolute.MaxTotalInstances == 0 || l.Absolute.MaxTotalCores == 0 {
			return fmt.Errorf("absolute limits %+v", l.Absolute)
		}
		pages, err := availabilityzones.List(compute).AllPages()
		if err != nil {
			return err
		}
		zones, err := availabilityzones.ExtractAvailabilityZones(pages)
		if err != nil {
			return err
		}
		if len(zones) == 0 || !zones[0].ZoneState.Available {
			return fmt.Errorf("availability zones %+v", zones)
		}
		q, err := quotasets.Get(compute, projectID).Extract()
		if err != nil {
			return err
		}
		if q.ID != projectID || q.Instances != l.Absolute.MaxTotalInstances || q.Cores != l.Absolute.MaxTotalCores {
			return fmt.Errorf("quota set %+v disagrees with limits %+v", q, l.Absolute)
		}
		return nil
	})

	s.step("flavors: list (detail)", func() error {
		if compute == nil {
			return errSkip
		}
		pages, err := flavors.ListDetail(compute, flavors.ListOpts{}).AllPages()
		if err != nil {
			return err
		}
		all, err := flavors.ExtractFlavors(pages)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("no flavors")
		}
		sort.Slice(all, func(i, j int) bool { return all[i].RAM < all[j].RAM })
		flavorID = all[0].ID
		f, err := flavors.Get(compute, flavorID).Extract()
		if err != nil {
			return err
		}
		if f.ID != flavorID || f.VCPUs < 1 {
			return fmt.Errorf("flavor show: %+v", f)
		}
		return nil
	})

	s.step("images: list", func() error {
		if image == nil {
			return errSkip
		}
		pages, err := images.List(image, images.ListOpts{}).AllPages()
		var all []images.Image
		if err == nil {
			all, err = images.ExtractImages(pages)
		}
		if err != nil {
			// Keep going with an image id from Nova's images proxy, so
			// that the server steps still run; this step fails anyway.
			if compute != nil {
				if p, err2 := novaimages.ListDetail(compute, nil).AllPages(); err2 == nil {
					if l, err2 := novaimages.ExtractImages(p); err2 == nil && len(l) > 0 {
						imageID = l[0].ID
					}
				}
			}
			return err
		}
		for _, im := range all {
			if im.Status == images.ImageStatusActive && (imageID == "" || strings.Contains(im.Name, "cirros")) {
				imageID = im.ID
			}
		}
		if imageID == "" {
			return fmt.Errorf("no active image among %d", len(all))
		}
		return nil
	})

	s.step("networks: list, external network found", func() error {
		if network == nil {
			return errSkip
		}
		pages, err := networks.List(network, networks.ListOpts{}).AllPages()
		if err != nil {
			return err
		}
		all, err := networks.ExtractNetworks(pages)
		if err != nil {
			return err
		}
		if len(all) == 0 {
			return fmt.Errorf("no networks")
		}
		// What a Go tool does to find the external network: router:external=true.
		iTrue := true
		lo := external.ListOptsExt{ListOptsBuilder: networks.ListOpts{}, External: &iTrue}
		pages, err = networks.List(network, lo).AllPages()
		if err != nil {
			return err
		}
		var ext []struct {
			networks.Network
			external.NetworkExternalExt
		}
		if err := networks.ExtractNetworksInto(pages, &ext); err != nil {
			return err
		}
		for _, n := range ext {
			if !n.External {
				return fmt.Errorf("network %s listed for router:external=true but is not external", n.ID)
			}
			extNet = n.ID
		}
		if extNet == "" {
			return fmt.Errorf("no external network")
		}
		return nil
	})

	s.step("keypair: create (generated)", func() error {
		if compute == nil {
			return errSkip
		}
		kp, err := keypairs.Create(compute, keypairs.CreateOpts{Name: name("key")}).Extract()
		if err != nil {
			return err
		}
		keyName = kp.Name
		s.defer_("keypair", func() error { return keypairs.Delete(compute, keyName).ExtractErr() })
		if !strings.HasPrefix(kp.PublicKey, "ssh-") || !strings.Contains(kp.PrivateKey, "PRIVATE KEY") {
			return fmt.Errorf("generated keypair lacks its keys: public %q", kp.PublicKey)
		}
		got, err := keypairs.Get(compute, keyName).Extract()
		if err != nil {
			return err
		}
		if got.Fingerprint != kp.Fingerprint {
			return fmt.Errorf("fingerprint %q, created as %q", got.Fingerprint, kp.Fingerprint)
		}
		return nil
	})

	s.step("network + subnet: create", func() error {
		if network == nil {
			return errSkip
		}
		up := true
		n, err := networks.Create(network, networks.CreateOpts{Name: name("net"), AdminStateUp: &up}).Extract()
		if err != nil {
			return err
		}
		netID = n.ID
		s.defer_("network", func() error { return networks.Delete(network, netID).ExtractErr() })
		dhcp := true
		sn, err := subnets.Create(network, subnets.CreateOpts{
			NetworkID: netID, Name: name("subnet"), CIDR: "10.77.0.0/24", IPVersion: gophercloud.IPv4,
			EnableDHCP: &dhcp, DNSNameservers: []string{"192.0.2.53"},
		}).Extract()
		if err != nil {
			return err
		}
		subnetID = sn.ID
		s.defer_("subnet", func() error { return subnets.Delete(network, subnetID).ExtractErr() })
		if sn.GatewayIP != "10.77.0.1" || sn.NetworkID != netID {
			return fmt.Errorf("subnet gateway %q network %q", sn.GatewayIP, sn.NetworkID)
		}
		n, err = networks.Get(network, netID).Extract()
		if err != nil {
			return err
		}
		if len(n.Subnets) != 1 || n.Subnets[0] != subnetID {
			return fmt.Errorf("network's subnets %v, want [%s]", n.Subnets, subnetID)
		}
		return nil
	})

	s.step("network: extensions, quotas, tags", func() error {
		if err := need(netID); err != nil {
			return err
		}
		pages, err := neutronext.List(network).AllPages()
		if err != nil {
			return err
		}
		exts, err := neutronext.ExtractExtensions(pages)
		if err != nil {
			return err
		}
		has := map[string]bool{}
		for _, e := range exts {
			has[e.Alias] = true
		}
		for _, want := range []string{"router", "security-group", "external-net", "standard-attr-tag"} {
			if !has[want] {
				return fmt.Errorf("extension %s not listed (%d listed)", want, len(exts))
			}
		}
		q, err := netquotas.Get(network, projectID).Extract()
		if err != nil {
			return err
		}
		if q.Network <= 0 || q.Port <= 0 {
			return fmt.Errorf("network quotas %+v", q)
		}
		tags, err := attributestags.ReplaceAll(network, "networks", netID, attributestags.ReplaceAllOpts{Tags: []string{"smoke", "go"}}).Extract()
		if err != nil {
			return err
		}
		sort.Strings(tags)
		if fmt.Sprint(tags) != "[go smoke]" {
			return fmt.Errorf("tags after replace: %v", tags)
		}
		lp, err := networks.List(network, networks.ListOpts{Tags: "smoke,go"}).AllPages()
		if err != nil {
			return err
		}
		tagged, err := networks.ExtractNetworks(lp)
		if err != nil {
			return err
		}
		if len(tagged) != 1 || tagged[0].ID != netID {
			return fmt.Errorf("networks tagged smoke,go: %d", len(tagged))
		}
		return nil
	})

	s.step("security group + rule: create", func() error {
		if network == nil {
			return errSkip
		}
		g, err := groups.Create(network, groups.CreateOpts{Name: name("sg"), Description: "gophercloud smoke"}).Extract()
		if err != nil {
			return err
		}
		sgID = g.ID
		s.defer_("security group", func() error { return groups.Delete(network, sgID).ExtractErr() })
		if len(g.Rules) == 0 {
			return fmt.Errorf("a new group has no default egress rules")
		}
		r, err := rules.Create(network, rules.CreateOpts{
			SecGroupID: sgID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
			Protocol: rules.ProtocolTCP, PortRangeMin: 22, PortRangeMax: 22, RemoteIPPrefix: "0.0.0.0/0",
		}).Extract()
		if err != nil {
			return err
		}
		ruleID = r.ID
		if r.PortRangeMin != 22 || r.PortRangeMax != 22 || r.Protocol != "tcp" || r.SecGroupID != sgID {
			return fmt.Errorf("rule %+v", r)
		}
		g, err = groups.Get(network, sgID).Extract()
		if err != nil {
			return err
		}
		for _, gr := range g.Rules {
			if gr.ID == ruleID {
				return nil
			}
		}
		return fmt.Errorf("rule %s not in the group's rules", ruleID)
	})

	s.step("port: create on the subnet", func() error {
		if err := need(netID, subnetID); err != nil {
			return err
		}
		p, err := ports.Create(network, ports.CreateOpts{
			NetworkID: netID, Name: name("port"),
			FixedIPs: []ports.IP{{SubnetID: subnetID, IPAddress: "10.77.0.50"}},
		}).Extract()
		if err != nil {
			return err
		}
		portID = p.ID
		s.defer_("port", func() error { return ports.Delete(network, portID).ExtractErr() })
		if len(p.FixedIPs) != 1 || p.FixedIPs[0].IPAddress != "10.77.0.50" || p.MACAddress == "" {
			return fmt.Errorf("port fixed_ips %+v mac %q", p.FixedIPs, p.MACAddress)
		}
		return nil
	})

	s.step("port: update security groups, address pairs", func() error {
		if err := need(portID, sgID); err != nil {
			return err
		}
		sgs := []string{sgID}
		pairs := []ports.AddressPair{{IPAddress: "10.77.0.200"}}
		p, err := ports.Update(network, portID, ports.UpdateOpts{SecurityGroups: &sgs, AllowedAddressPairs: &pairs}).Extract()
		if err != nil {
			return err
		}
		if len(p.SecurityGroups) != 1 || p.SecurityGroups[0] != sgID || len(p.AllowedAddressPairs) != 1 ||
			p.AllowedAddressPairs[0].IPAddress != "10.77.0.200" || p.AllowedAddressPairs[0].MACAddress != p.MACAddress {
			return fmt.Errorf("updated port: security_groups %v allowed_address_pairs %+v mac %s", p.SecurityGroups, p.AllowedAddressPairs, p.MACAddress)
		}
		return nil
	})

	s.step("server: boot on the network, WaitForStatus ACTIVE", func() error {
		if err := need(flavorID, imageID, netID, subnetID, keyName, sgID); err != nil {
			return err
		}
		base := servers.CreateOpts{
			Name: name("vm"), FlavorRef: flavorID, ImageRef: imageID,
			Networks:       []servers.Network{{UUID: netID}},
			SecurityGroups: []string{name("sg")},
			Metadata:       map[string]string{"made-by": "gophercloud"},
		}
		srv, err := servers.Create(compute, keypairs.CreateOptsExt{CreateOptsBuilder: base, KeyName: keyName}).Extract()
		if err != nil {
			return err
		}
		serverID = srv.ID
		s.defer_("server", func() error {
			if err := servers.Delete(compute, serverID).ExtractErr(); err != nil && !is404(err) {
				return err
			}
			return waitGone(timeout, func() error { _, err := servers.Get(compute, serverID).Extract(); return err })
		})
		if srv.AdminPass == "" {
			return fmt.Errorf("create reply has no adminPass")
		}
		if err := servers.WaitForStatus(compute, serverID, "ACTIVE", timeout); err != nil {
			return err
		}
		got, err := servers.Get(compute, serverID).Extract()
		if err != nil {
			return err
		}
		if got.KeyName != keyName || got.Metadata["made-by"] != "gophercloud" || got.Image["id"] != imageID {
			return fmt.Errorf("server key_name %q metadata %v image %v", got.KeyName, got.Metadata, got.Image)
		}
		if fmt.Sprint(got.SecurityGroups) != fmt.Sprintf("[map[name:%s]]", name("sg")) {
			return fmt.Errorf("server security_groups %v", got.SecurityGroups)
		}
		return nil
	})

	s.step("server: addresses (show and /ips)", func() error {
		if err := need(serverID); err != nil {
			return err
		}
		got, err := servers.Get(compute, serverID).Extract()
		if err != nil {
			return err
		}
		nname := name("net")
		entries, ok := got.Addresses[nname].([]interface{})
		if !ok || len(entries) == 0 {
			return fmt.Errorf("no addresses on %s: %v", nname, got.Addresses)
		}
		first, _ := entries[0].(map[string]interface{})
		addr, _ := first["addr"].(string)
		if !strings.HasPrefix(addr, "10.77.0.") {
			return fmt.Errorf("address %v not on 10.77.0.0/24", first)
		}
		pages, err := servers.ListAddresses(compute, serverID).AllPages()
		if err != nil {
			return err
		}
		ips, err := servers.ExtractAddresses(pages)
		if err != nil {
			return err
		}
		if len(ips[nname]) == 0 || ips[nname][0].Address != addr {
			return fmt.Errorf("/ips says %v, show says %s", ips, addr)
		}
		// The port Neutron made for the server, with that address.
		pp, err := ports.List(network, ports.ListOpts{DeviceID: serverID}).AllPages()
		if err != nil {
			return err
		}
		pl, err := ports.ExtractPorts(pp)
		if err != nil {
			return err
		}
		if len(pl) != 1 || len(pl[0].FixedIPs) == 0 || pl[0].FixedIPs[0].IPAddress != addr {
			return fmt.Errorf("ports for device %s: %+v", serverID, pl)
		}
		serverPortID = pl[0].ID
		return nil
	})

	s.step("server: OS-EXT-STS, OS-EXT-AZ, OS-SRV-USG fields", func() error {
		if err := need(serverID); err != nil {
			return err
		}
		var srv struct {
			servers.Server
			extendedstatus.ServerExtendedStatusExt
			availabilityzones.ServerAvailabilityZoneExt
			serverusage.UsageExt
		}
		if err := servers.Get(compute, serverID).ExtractInto(&srv); err != nil {
			return err
		}
		if srv.VmState != "active" || srv.PowerState != extendedstatus.RUNNING || srv.TaskState != "" {
			return fmt.Errorf("vm_state %q power_state %v task_state %q", srv.VmState, srv.PowerState, srv.TaskState)
		}
		if srv.AvailabilityZone == "" {
			return fmt.Errorf("no OS-EXT-AZ:availability_zone")
		}
		if d := time.Since(srv.LaunchedAt); d < 0 || d > time.Hour || !srv.TerminatedAt.IsZero() {
			return fmt.Errorf("launched_at %s terminated_at %s", srv.LaunchedAt, srv.TerminatedAt)
		}
		if d := time.Since(srv.Created); d < 0 || d > time.Hour || srv.Updated.Before(srv.Created) {
			return fmt.Errorf("created %s updated %s", srv.Created, srv.Updated)
		}
		return nil
	})

	s.step("server: os-interface lists its port", func() error {
		if err := need(serverID, serverPortID); err != nil {
			return err
		}
		pages, err := attachinterfaces.List(compute, serverID).AllPages()
		if err != nil {
			return err
		}
		ifs, err := attachinterfaces.ExtractInterfaces(pages)
		if err != nil {
			return err
		}
		if len(ifs) != 1 || ifs[0].PortID != serverPortID || ifs[0].NetID != netID || len(ifs[0].FixedIPs) != 1 ||
			ifs[0].FixedIPs[0].SubnetID != subnetID || ifs[0].PortState != "ACTIVE" {
			return fmt.Errorf("interfaces %+v", ifs)
		}
		return nil
	})

	s.step("server: rename, stop, start, instance actions", func() error {
		if err := need(serverID); err != nil {
			return err
		}
		got, err := servers.Update(compute, serverID, servers.UpdateOpts{Name: name("vm-renamed")}).Extract()
		if err != nil {
			return err
		}
		if got.Name != name("vm-renamed") {
			return fmt.Errorf("renamed to %q", got.Name)
		}
		if err := startstop.Stop(compute, serverID).ExtractErr(); err != nil {
			return err
		}
		if err := servers.WaitForStatus(compute, serverID, "SHUTOFF", timeout); err != nil {
			return fmt.Errorf("waiting for SHUTOFF: %w", err)
		}
		if err := startstop.Start(compute, serverID).ExtractErr(); err != nil {
			return err
		}
		if err := servers.WaitForStatus(compute, serverID, "ACTIVE", timeout); err != nil {
			return fmt.Errorf("waiting for ACTIVE again: %w", err)
		}
		pages, err := instanceactions.List(compute, serverID, nil).AllPages()
		if err != nil {
			return err
		}
		acts, err := instanceactions.ExtractInstanceActions(pages)
		if err != nil {
			return err
		}
		var names []string
		for _, a := range acts {
			names = append(names, a.Action)
			if a.StartTime.IsZero() || time.Since(a.StartTime) > time.Hour {
				return fmt.Errorf("action %s start_time %s", a.Action, a.StartTime)
			}
		}
		if strings.Join(names, ",") != "start,stop,create" {
			return fmt.Errorf("instance actions %v, want [start stop create]", names)
		}
		return nil
	})

	s.step("server: metadata, server group", func() error {
		if err := need(serverID); err != nil {
			return err
		}
		md, err := servers.UpdateMetadata(compute, serverID, servers.MetadataOpts{"role": "web"}).Extract()
		if err != nil {
			return err
		}
		if md["role"] != "web" || md["made-by"] != "gophercloud" {
			return fmt.Errorf("metadata after update: %v", md)
		}
		md, err = servers.Metadata(compute, serverID).Extract()
		if err != nil {
			return err
		}
		if len(md) != 2 {
			return fmt.Errorf("metadata: %v", md)
		}
		g, err := servergroups.Create(compute, servergroups.CreateOpts{Name: name("group"), Policies: []string{"anti-affinity"}}).Extract()
		if err != nil {
			return err
		}
		if len(g.Policies) != 1 || g.Policies[0] != "anti-affinity" {
			servergroups.Delete(compute, g.ID)
			return fmt.Errorf("server group %+v", g)
		}
		if err := servergroups.Delete(compute, g.ID).ExtractErr(); err != nil {
			return err
		}
		if _, err := servergroups.Get(compute, g.ID).Extract(); !is404(err) {
			return fmt.Errorf("deleted server group: get says %v", err)
		}
		return nil
	})

	s.step("compute 2.79: server tags, keypair 201/204", func() error {
		if err := need(serverID); err != nil {
			return err
		}
		mv := *compute
		mv.Microversion = "2.79"
		tags, err := servertags.ReplaceAll(&mv, serverID, servertags.ReplaceAllOpts{Tags: []string{"web", "go"}}).Extract()
		if err != nil {
			return err
		}
		sort.Strings(tags)
		if fmt.Sprint(tags) != "[go web]" {
			return fmt.Errorf("server tags %v", tags)
		}
		var srv struct {
			Tags   []string               `json:"tags"`
			Flavor map[string]interface{} `json:"flavor"`
		}
		if err := servers.Get(&mv, serverID).ExtractInto(&srv); err != nil {
			return err
		}
		if len(srv.Tags) != 2 || srv.Flavor["original_name"] == nil {
			return fmt.Errorf("server at 2.79: tags %v flavor %v", srv.Tags, srv.Flavor)
		}
		kp, err := keypairs.Create(&mv, keypairs.CreateOpts{Name: name("key279")}).Extract()
		if err != nil {
			return err
		}
		if kp.PrivateKey == "" {
			keypairs.Delete(&mv, kp.Name)
			return fmt.Errorf("no private key generated at 2.79 (Nova generates keys below 2.92)")
		}
		return keypairs.Delete(&mv, kp.Name).ExtractErr()
	})

	s.step("router: external gateway + subnet interface", func() error {
		if err := need(extNet, subnetID); err != nil {
			return err
		}
		r, err := routers.Create(network, routers.CreateOpts{
			Name: name("router"), GatewayInfo: &routers.GatewayInfo{NetworkID: extNet},
		}).Extract()
		if err != nil {
			return err
		}
		routerID = r.ID
		s.defer_("router", func() error { return routers.Delete(network, routerID).ExtractErr() })
		if r.GatewayInfo.NetworkID != extNet {
			return fmt.Errorf("router gateway %+v", r.GatewayInfo)
		}
		ifc, err := routers.AddInterface(network, routerID, routers.AddInterfaceOpts{SubnetID: subnetID}).Extract()
		if err != nil {
			return err
		}
		s.defer_("router interface", func() error {
			_, err := routers.RemoveInterface(network, routerID, routers.RemoveInterfaceOpts{SubnetID: subnetID}).Extract()
			return err
		})
		if ifc.SubnetID != subnetID || ifc.PortID == "" {
			return fmt.Errorf("interface %+v", ifc)
		}
		return nil
	})

	s.step("floating IP: create on the server's port", func() error {
		if err := need(extNet, serverPortID, routerID); err != nil {
			return err
		}
		fip, err := floatingips.Create(network, floatingips.CreateOpts{FloatingNetworkID: extNet}).Extract()
		if err != nil {
			return err
		}
		fipID, fipAddr = fip.ID, fip.FloatingIP
		s.defer_("floating IP", func() error { return floatingips.Delete(network, fipID).ExtractErr() })
		if fip.FloatingIP == "" || fip.PortID != "" {
			return fmt.Errorf("new floating IP %+v", fip)
		}
		fip, err = floatingips.Update(network, fipID, floatingips.UpdateOpts{PortID: &serverPortID}).Extract()
		if err != nil {
			return err
		}
		if fip.PortID != serverPortID || !strings.HasPrefix(fip.FixedIP, "10.77.0.") {
			return fmt.Errorf("associated floating IP %+v", fip)
		}
		// Nova shows it among the server's addresses.
		return gophercloud.WaitFor(30, func() (bool, error) {
			got, err := servers.Get(compute, serverID).Extract()
			if err != nil {
				return false, err
			}
			return strings.Contains(fmt.Sprint(got.Addresses), fipAddr), nil
		})
	})

	s.step("image: create, upload data, download it", func() error {
		if image == nil {
			return errSkip
		}
		im, err := images.Create(image, images.CreateOpts{
			Name: name("image"), ContainerFormat: "bare", DiskFormat: "raw",
			Tags: []string{"gophercloud"}, Properties: map[string]string{"os_distro": "smoke"},
		}).Extract()
		if err != nil {
			return err
		}
		newImageID = im.ID
		s.defer_("image", func() error { return images.Delete(image, newImageID).ExtractErr() })
		if im.Status != images.ImageStatusQueued {
			return fmt.Errorf("new image status %q, want queued", im.Status)
		}
		data := make([]byte, 64*1024+7)
		if _, err := rand.Read(data); err != nil {
			return err
		}
		if err := imagedata.Upload(image, newImageID, bytes.NewReader(data)).ExtractErr(); err != nil {
			return err
		}
		im, err = images.Get(image, newImageID).Extract()
		if err != nil {
			return err
		}
		if im.Status != images.ImageStatusActive || im.SizeBytes != int64(len(data)) {
			return fmt.Errorf("after upload: status %q size %d, want active %d", im.Status, im.SizeBytes, len(data))
		}
		rd, err := imagedata.Download(image, newImageID).Extract()
		if err != nil {
			return err
		}
		defer rd.Close()
		back, err := ioutil.ReadAll(rd)
		if err != nil {
			return err
		}
		if !bytes.Equal(back, data) {
			return fmt.Errorf("downloaded %d bytes differ from the %d uploaded", len(back), len(data))
		}
		return nil
	})

	s.step("image: update (JSON patch: name, tags, property)", func() error {
		if err := need(newImageID); err != nil {
			return err
		}
		im, err := images.Update(image, newImageID, images.UpdateOpts{
			images.ReplaceImageName{NewName: name("image-renamed")},
			images.ReplaceImageTags{NewTags: []string{"gophercloud", "patched"}},
			images.UpdateImageProperty{Op: images.AddOp, Name: "hw_rng_model", Value: "virtio"},
		}).Extract()
		if err != nil {
			return err
		}
		sort.Strings(im.Tags)
		if im.Name != name("image-renamed") || fmt.Sprint(im.Tags) != "[gophercloud patched]" ||
			fmt.Sprint(im.Properties["hw_rng_model"]) != "virtio" {
			return fmt.Errorf("patched image: name %q tags %v hw_rng_model %v", im.Name, im.Tags, im.Properties["hw_rng_model"])
		}
		return nil
	})

	s.step("images: filter by tag, sort by name", func() error {
		if err := need(newImageID); err != nil {
			return err
		}
		pages, err := images.List(image, images.ListOpts{Tags: []string{"patched"}}).AllPages()
		if err != nil {
			return err
		}
		tagged, err := images.ExtractImages(pages)
		if err != nil {
			return err
		}
		if len(tagged) != 1 || tagged[0].ID != newImageID {
			return fmt.Errorf("images tagged patched: %d", len(tagged))
		}
		pages, err = images.List(image, images.ListOpts{Sort: "name:asc"}).AllPages()
		if err != nil {
			return err
		}
		all, err := images.ExtractImages(pages)
		if err != nil {
			return err
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].Name > all[i].Name {
				return fmt.Errorf("sort=name:asc gives %q before %q", all[i-1].Name, all[i].Name)
			}
		}
		return nil
	})

	s.step("pagination: servers, limit 1 (Pager)", func() error {
		if err := need(serverID, portID, flavorID, imageID); err != nil {
			return err
		}
		// A second server, so that there is a next page to follow, booted
		// on the port made beforehand (as terraform does with a port).
		srv, err := servers.Create(compute, servers.CreateOpts{
			Name: name("vm2"), FlavorRef: flavorID, ImageRef: imageID, Networks: []servers.Network{{Port: portID}},
		}).Extract()
		if err != nil {
			return err
		}
		server2ID = srv.ID
		s.defer_("server 2", func() error {
			if err := servers.Delete(compute, server2ID).ExtractErr(); err != nil && !is404(err) {
				return err
			}
			return waitGone(timeout, func() error { _, err := servers.Get(compute, server2ID).Extract(); return err })
		})
		all, pages, err := pageAll(servers.List(compute, servers.ListOpts{Limit: 1}), func(p pagination.Page) ([]string, error) {
			l, err := servers.ExtractServers(p)
			var ids []string
			for _, x := range l {
				ids = append(ids, x.ID)
			}
			if len(l) > 1 {
				return nil, fmt.Errorf("a page of %d servers with limit=1", len(l))
			}
			return ids, err
		})
		if err != nil {
			return err
		}
		if pages < 2 {
			return fmt.Errorf("%d page(s) for %d servers with limit=1", pages, len(all))
		}
		if err := contains(all, serverID, server2ID); err != nil {
			return err
		}
		// The port is now the second server's.
		p, err := ports.Get(network, portID).Extract()
		if err != nil {
			return err
		}
		if p.DeviceID != server2ID || p.DeviceOwner != "compute:nova" && !strings.HasPrefix(p.DeviceOwner, "compute:") {
			return fmt.Errorf("port given at boot: device_id %q owner %q", p.DeviceID, p.DeviceOwner)
		}
		return nil
	})

	s.step("pagination: ports, limit 2 (Pager)", func() error {
		if err := need(netID, portID); err != nil {
			return err
		}
		for i := 0; i < 3; i++ {
			p, err := ports.Create(network, ports.CreateOpts{NetworkID: netID, Name: name(fmt.Sprintf("p%d", i))}).Extract()
			if err != nil {
				return err
			}
			extraPorts = append(extraPorts, p.ID)
			id := p.ID
			s.defer_("port "+id, func() error { return ports.Delete(network, id).ExtractErr() })
		}
		all, pages, err := pageAll(ports.List(network, ports.ListOpts{NetworkID: netID, Limit: 2}), func(p pagination.Page) ([]string, error) {
			l, err := ports.ExtractPorts(p)
			var ids []string
			for _, x := range l {
				ids = append(ids, x.ID)
			}
			if len(l) > 2 {
				return nil, fmt.Errorf("a page of %d ports with limit=2", len(l))
			}
			return ids, err
		})
		if err != nil {
			return err
		}
		if pages < 3 {
			return fmt.Errorf("%d page(s) for %d ports with limit=2", pages, len(all))
		}
		// Also walking backwards is not something gophercloud does: forward only.
		return contains(all, append([]string{portID}, extraPorts...)...)
	})

	s.step("pagination: images, limit 1 (Pager)", func() error {
		if err := need(newImageID); err != nil {
			return err
		}
		all, pages, err := pageAll(images.List(image, images.ListOpts{Limit: 1}), func(p pagination.Page) ([]string, error) {
			l, err := images.ExtractImages(p)
			var ids []string
			for _, x := range l {
				ids = append(ids, x.ID)
			}
			return ids, err
		})
		if err != nil {
			return err
		}
		if pages < 2 {
			return fmt.Errorf("%d page(s) for %d images with limit=1", pages, len(all))
		}
		return contains(all, newImageID, imageID)
	})

	// Deletion, in the order a tool tears down: what it created last goes first.
	s.step("floating IP: disassociate and delete", func() error {
		if err := need(fipID); err != nil {
			return err
		}
		fip, err := floatingips.Update(network, fipID, floatingips.UpdateOpts{PortID: new(string)}).Extract()
		if err != nil {
			return err
		}
		if fip.PortID != "" {
			return fmt.Errorf("still on port %q after port_id=null", fip.PortID)
		}
		s.drop("floating IP")
		if err := floatingips.Delete(network, fipID).ExtractErr(); err != nil {
			return err
		}
		if _, err := floatingips.Get(network, fipID).Extract(); !is404(err) {
			return fmt.Errorf("deleted floating IP: get says %v", err)
		}
		return nil
	})

	s.step("servers: delete, wait until gone", func() error {
		if err := need(serverID); err != nil {
			return err
		}
		for _, c := range []string{"server", "server 2"} {
			for _, cl := range s.cleanups {
				if cl.name == c {
					if err := cl.fn(); err != nil {
						return fmt.Errorf("%s: %w", c, err)
					}
				}
			}
			s.drop(c)
		}
		// The port given at boot survives its server, unbound.
		if portID != "" {
			p, err := ports.Get(network, portID).Extract()
			if err != nil {
				return fmt.Errorf("the port given at boot, after the server went: %w", err)
			}
			if p.DeviceID != "" || p.DeviceOwner != "" {
				return fmt.Errorf("the port given at boot still has device_id %q owner %q", p.DeviceID, p.DeviceOwner)
			}
		}
		// Nova released the port it made for the server.
		if serverPortID == "" {
			return nil
		}
		return gophercloud.WaitFor(30, func() (bool, error) {
			_, err := ports.Get(network, serverPortID).Extract()
			if err == nil {
				return false, nil
			}
			if is404(err) {
				return true, nil
			}
			return false, err
		})
	})

	// Everything else: router interface, router, ports, security group,
	// subnet, network, keypair, image, in reverse creation order.
	s.step("cleanup: everything else, reverse order", func() error {
		var errs []string
		for i := len(s.cleanups) - 1; i >= 0; i-- {
			if err := s.cleanups[i].fn(); err != nil && !is404(err) {
				errs = append(errs, s.cleanups[i].name+": "+err.Error())
			}
		}
		s.cleanups = nil
		if len(errs) > 0 {
			return fmt.Errorf("%s", strings.Join(errs, "; "))
		}
		return nil
	})

	s.step("cleanup: deleted resources are gone", func() error {
		if err := need(netID, sgID, keyName); err != nil {
			return err
		}
		checks := map[string]error{}
		_, checks["network"] = networks.Get(network, netID).Extract()
		_, checks["security group"] = groups.Get(network, sgID).Extract()
		_, checks["keypair"] = keypairs.Get(compute, keyName).Extract()
		if routerID != "" {
			_, checks["router"] = routers.Get(network, routerID).Extract()
		}
		if newImageID != "" {
			_, checks["image"] = images.Get(image, newImageID).Extract()
		}
		for what, err := range checks {
			if !is404(err) {
				return fmt.Errorf("%s after delete: %v (want a 404)", what, err)
			}
		}
		return nil
	})

	// If a step failed before the cleanup steps, the cleanups above ran anyway.
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		_ = s.cleanups[i].fn()
	}
	fmt.Printf("gophercloud smoke: %d steps, %d failed, %d skipped\n", s.n, s.failed, s.skipped)
	if s.failed > 0 || s.skipped > 0 {
		os.Exit(1)
	}
}

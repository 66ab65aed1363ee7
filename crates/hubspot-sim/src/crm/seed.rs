//! Generated CRM data: [`Sim::seed_crm`], `POST /_sim/seed` and the `--seed-*` flags.
//!
//! Deterministic: the same [`SeedSpec`] on a fresh simulator gives the same records
//! (same ids, same values), because every record draws its values from a small
//! splitmix64 generator keyed by `(seed, object type, index)`; only `createdAt` /
//! `updatedAt` are the real time of the call. The names and words live in this file.
//!
//! Records go straight into the store under one lock, already in the store's
//! normalized form (the values are valid by construction, stages and owners taken from
//! the portal), which is what makes a million contacts take 3-5 s in a release build
//! (figures in the README); associations then go through `Sim::crm_associate_many`.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::post};
use serde::{Deserialize, Serialize};

use crate::crm::schema::{ALL_KINDS, DEAL_STAGES, ObjectKind, TICKET_STAGES};
use crate::crm::store::{Changes, ObjectStore, PortalCrm};
use crate::crm::time;
use crate::errors::ApiError;
use crate::portals;
use crate::state::{Sim, now_ms};

/// Most records one seed call may create (all types together).
pub const MAX_SEED_RECORDS: usize = 5_000_000;

/// What to generate. Every count defaults to 0, `portal_id` to Acme Inc, `seed` to 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedSpec {
    pub portal_id: i64,
    /// Varies the generated values; the same seed gives the same records.
    pub seed: u64,
    pub contacts: usize,
    pub companies: usize,
    pub deals: usize,
    pub tickets: usize,
    pub products: usize,
    /// Each references a product (`hs_product_id`; needs `products` > 0) and, when
    /// there are deals, is associated with one (round robin).
    pub line_items: usize,
    pub notes: usize,
    pub calls: usize,
    pub emails: usize,
    pub meetings: usize,
    pub tasks: usize,
}

impl Default for SeedSpec {
    fn default() -> Self {
        Self {
            portal_id: portals::all().first().map_or(24_682_001, |p| p.id),
            seed: 0,
            contacts: 0,
            companies: 0,
            deals: 0,
            tickets: 0,
            products: 0,
            line_items: 0,
            notes: 0,
            calls: 0,
            emails: 0,
            meetings: 0,
            tasks: 0,
        }
    }
}

/// The object types in generation (and id) order.
const ORDER: [ObjectKind; 11] = [
    ObjectKind::Companies,
    ObjectKind::Contacts,
    ObjectKind::Products,
    ObjectKind::Deals,
    ObjectKind::LineItems,
    ObjectKind::Tickets,
    ObjectKind::Notes,
    ObjectKind::Calls,
    ObjectKind::Emails,
    ObjectKind::Meetings,
    ObjectKind::Tasks,
];

impl SeedSpec {
    /// The number of records of `kind` to generate.
    pub fn count(&self, kind: ObjectKind) -> usize {
        match kind {
            ObjectKind::Contacts => self.contacts,
            ObjectKind::Companies => self.companies,
            ObjectKind::Deals => self.deals,
            ObjectKind::Tickets => self.tickets,
            ObjectKind::Products => self.products,
            ObjectKind::LineItems => self.line_items,
            ObjectKind::Notes => self.notes,
            ObjectKind::Calls => self.calls,
            ObjectKind::Emails => self.emails,
            ObjectKind::Meetings => self.meetings,
            ObjectKind::Tasks => self.tasks,
            ObjectKind::Standard(_) | ObjectKind::Custom(_) => 0,
        }
    }

    fn count_mut(&mut self, kind: ObjectKind) -> Option<&mut usize> {
        Some(match kind {
            ObjectKind::Contacts => &mut self.contacts,
            ObjectKind::Companies => &mut self.companies,
            ObjectKind::Deals => &mut self.deals,
            ObjectKind::Tickets => &mut self.tickets,
            ObjectKind::Products => &mut self.products,
            ObjectKind::LineItems => &mut self.line_items,
            ObjectKind::Notes => &mut self.notes,
            ObjectKind::Calls => &mut self.calls,
            ObjectKind::Emails => &mut self.emails,
            ObjectKind::Meetings => &mut self.meetings,
            ObjectKind::Tasks => &mut self.tasks,
            ObjectKind::Standard(_) | ObjectKind::Custom(_) => return None,
        })
    }

    /// All records together.
    pub fn total(&self) -> usize {
        ORDER.iter().map(|k| self.count(*k)).sum()
    }

    /// Sets one value from a command-line flag `--seed-{key} VALUE`: `portal` (the
    /// portal id), `rng` (the seed) or an object type's plural name (`line-items` and
    /// `line_items` both work).
    pub fn set_flag(&mut self, key: &str, value: &str) -> Result<(), String> {
        let number = |what: &str| {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("--seed-{key}: not {what}: {value}"))
        };
        match key {
            "portal" => {
                self.portal_id = i64::try_from(number("a portal id")?)
                    .map_err(|_| format!("--seed-{key}: out of range: {value}"))?;
            }
            "rng" => self.seed = number("a number")?,
            _ => {
                let kind = ObjectKind::parse(&key.replace('-', "_"))
                    .filter(|k| k.plural() == key.replace('-', "_"))
                    .ok_or_else(|| format!("unknown argument --seed-{key}"))?;
                let count = usize::try_from(number("a count")?)
                    .map_err(|_| format!("--seed-{key}: out of range: {value}"))?;
                if let Some(slot) = self.count_mut(kind) {
                    *slot = count;
                }
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ApiError> {
        if portals::find(self.portal_id).is_none() {
            return Err(ApiError::validation(format!(
                "portal_id {} is not one of the simulator's portals",
                self.portal_id
            )));
        }
        if self.total() > MAX_SEED_RECORDS {
            return Err(ApiError::validation(format!(
                "at most {MAX_SEED_RECORDS} records per seed call; asked for {}",
                self.total()
            )));
        }
        if self.line_items > 0 && self.products == 0 {
            return Err(ApiError::validation(
                "line_items reference products: ask for products too",
            ));
        }
        Ok(())
    }
}

/// What a seed call created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeedSummary {
    pub portal_id: i64,
    pub seed: u64,
    /// Records created per object type (plural name), every type listed.
    pub counts: BTreeMap<String, usize>,
    /// The first id of each type that got records (a type's ids are consecutive).
    pub first_ids: BTreeMap<String, u64>,
    /// Association pairs created (each in both directions): contact-company,
    /// deal-company, deal-contact, line item-deal, ticket-contact, engagement-contact.
    pub associations: usize,
    pub total: usize,
    /// Time spent creating the records (the rest of `elapsed_ms` is associations).
    pub records_ms: u64,
    pub elapsed_ms: u64,
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl SeedSummary {
    /// One line for people: `seeded 1260 records (50 companies, 1000 contacts, ...) and
    /// 1100 associations in portal 24682001 in 22 ms`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = ORDER
            .iter()
            .filter_map(|k| {
                let n = self.counts.get(k.plural()).copied().unwrap_or(0);
                (n > 0).then(|| format!("{n} {}", k.plural()))
            })
            .collect();
        format!(
            "seeded {} records ({}) and {} associations in portal {} in {} ms",
            self.total,
            parts.join(", "),
            self.associations,
            self.portal_id,
            self.elapsed_ms
        )
    }
}

impl Sim {
    /// Generates deterministic, realistic records in a portal (see the module docs and
    /// the README): companies with domains, contacts working there, products, deals in
    /// the default pipeline, line items of those products on the deals, tickets and
    /// engagements. No webhook events; history source `CRM_UI`. Holds the state lock
    /// for the whole call.
    pub fn seed_crm(&self, spec: &SeedSpec) -> Result<SeedSummary, ApiError> {
        spec.check()?;
        let started = Instant::now();
        let now = now_ms();
        let (first_ids, links) = self.with(|s| {
            let crm = s.crm.portal(spec.portal_id);
            let mut generator = Generator::new(spec);
            let mut first_ids = BTreeMap::new();
            for kind in ORDER {
                if let Some(first) = generator.generate(crm, kind, now) {
                    first_ids.insert(kind.plural().to_owned(), first);
                }
            }
            (first_ids, generator.links)
        });
        let records_ms = millis(started);
        // One bulk call per pair of object types (each takes the lock once).
        let mut groups: BTreeMap<(usize, usize), Vec<(u64, u64)>> = BTreeMap::new();
        for (from, a, to, b) in links {
            groups
                .entry((from.index(), to.index()))
                .or_default()
                .push((a, b));
        }
        let mut associations = 0;
        for ((from, to), pairs) in groups {
            let (from, to) = (ALL_KINDS[from], ALL_KINDS[to]);
            // Primary company for contacts and deals, as HubSpot's UI sets it.
            let type_id = match (from, to) {
                (ObjectKind::Contacts, ObjectKind::Companies) => 1,
                (ObjectKind::Deals, ObjectKind::Companies) => 5,
                _ => 0,
            };
            associations += self.crm_associate_many(
                spec.portal_id,
                from.plural(),
                to.plural(),
                type_id,
                pairs,
            )?;
        }
        Ok(SeedSummary {
            portal_id: spec.portal_id,
            seed: spec.seed,
            counts: ORDER
                .iter()
                .map(|k| (k.plural().to_owned(), spec.count(*k)))
                .collect(),
            first_ids,
            associations,
            total: spec.total(),
            records_ms,
            elapsed_ms: millis(started),
        })
    }
}

/// `POST /_sim/seed`: body [`SeedSpec`], answer 200 with [`SeedSummary`].
pub fn routes() -> Router<Sim> {
    Router::new().route("/_sim/seed", post(seed))
}

async fn seed(State(sim): State<Sim>, body: Bytes) -> Result<Response, ApiError> {
    let spec: SeedSpec = if body.iter().all(u8::is_ascii_whitespace) {
        SeedSpec::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::validation(format!("Invalid JSON body: {e}")))?
    };
    // Seconds of work for big requests: off the async workers.
    let summary = tokio::task::spawn_blocking(move || sim.seed_crm(&spec))
        .await
        .map_err(|e| ApiError::validation(format!("seeding failed: {e}")))??;
    Ok(Json(summary).into_response())
}

// ---------------------------------------------------------------------------------
// The generator

/// splitmix64's output function.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 stream for one record.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, kind: ObjectKind, i: usize) -> Self {
        let tag = kind.index() as u64;
        Self(mix(
            seed ^ mix(tag.wrapping_mul(0x1000_0001) ^ mix(i as u64))
        ))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform-ish in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// 2025-01-01T00:00:00Z: activity dates and close dates fall in the year after it.
const BASE_MS: i64 = 1_735_689_600_000;
const DAY_MS: i64 = 86_400_000;

/// An association the seed made: `(from type, from id, to type, to id)`.
type Link = (ObjectKind, u64, ObjectKind, u64);

struct Company {
    name: String,
    domain: String,
    city: usize,
}

struct Product {
    name: String,
    price: String,
    sku: String,
    term: Option<&'static str>,
}

struct Generator<'a> {
    spec: &'a SeedSpec,
    companies: Vec<Company>,
    /// First id of each type generated so far.
    company_ids: u64,
    contact_ids: u64,
    deal_ids: u64,
    products: Vec<(u64, Product)>,
    contact_names: Vec<(u16, u16)>,
    links: Vec<Link>,
    /// First and last names in lower case, letters only (for emails).
    lower: (Vec<String>, Vec<String>),
}

/// FNV-1a: property names are short and trusted, SipHash is a third of the time.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The property indices of one object type, looked up once per seed call.
struct Props {
    idx: HashMap<String, u16, BuildHasherDefault<Fnv>>,
    /// Whether the store had live records before (then contact emails are checked).
    had_records: bool,
    /// Deals and tickets: the stages of the portal's default pipeline as it is now,
    /// `(id, closed)`.
    stages: Vec<(String, bool)>,
    /// The values `hubspot_owner_id` accepts (the portal's active owners).
    owners: Vec<String>,
}

impl Props {
    fn new(store: &ObjectStore) -> Self {
        let idx = store
            .props
            .iter()
            .filter_map(|d| Some((d.name.clone(), store.prop_index(&d.name)?)))
            .collect();
        let default = if store.kind == ObjectKind::Tickets {
            "0"
        } else {
            "default"
        };
        let stages = store
            .pipelines
            .find(default)
            .map(|p| {
                p.stages
                    .iter()
                    .map(|s| {
                        let meta = |k: &str| s.metadata.get(k).and_then(|v| v.as_str());
                        let closed = meta("isClosed") == Some("true")
                            || meta("ticketState") == Some("CLOSED");
                        (s.id.clone(), closed)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let owners = store
            .prop_index("hubspot_owner_id")
            .map(|i| {
                store
                    .def(i)
                    .options
                    .iter()
                    .map(|o| o.value.clone())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            idx,
            had_records: !store.live.is_empty(),
            stages,
            owners,
        }
    }

    fn idx(&self, name: &str) -> u16 {
        self.idx.get(name).copied().unwrap_or(u16::MAX)
    }

    /// A stage of the default pipeline (the built-in ones if it has none).
    fn stage<'s>(&'s self, rng: &mut Rng, builtin: &'static [(&'static str, &str)]) -> &'s str {
        if self.stages.is_empty() {
            rng.pick(builtin).0
        } else {
            &rng.pick(&self.stages).0
        }
    }

    /// Most records get an owner (one of the portal's active owners).
    fn owner(&self, r: &mut Rec, rng: &mut Rng) {
        if !self.owners.is_empty() && rng.chance(85) {
            r.set(self.idx("hubspot_owner_id"), rng.pick(&self.owners));
        }
    }

    fn is_closed(&self, stage: &str) -> bool {
        self.stages
            .iter()
            .any(|(id, closed)| id == stage && *closed)
    }
}

/// One record's values under construction.
struct Rec(Changes);

impl Rec {
    fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    fn set(&mut self, idx: u16, value: impl AsRef<str>) {
        if idx != u16::MAX {
            self.0.push((idx, Some(Box::from(value.as_ref()))));
        }
    }

    /// Formats through one reused buffer, so each value is a single exact allocation.
    fn setf(&mut self, idx: u16, value: std::fmt::Arguments<'_>) {
        use std::fmt::Write;
        if idx == u16::MAX {
            return;
        }
        SCRATCH.with_borrow_mut(|buf| {
            buf.clear();
            let _ = buf.write_fmt(value);
            self.0.push((idx, Some(Box::from(buf.as_str()))));
        });
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl<'a> Generator<'a> {
    fn new(spec: &'a SeedSpec) -> Self {
        Self {
            spec,
            companies: Vec::new(),
            company_ids: 0,
            contact_ids: 0,
            deal_ids: 0,
            products: Vec::new(),
            contact_names: Vec::new(),
            links: Vec::new(),
            lower: (
                FIRST_NAMES.iter().map(|n| ascii_lower(n)).collect(),
                LAST_NAMES.iter().map(|n| ascii_lower(n)).collect(),
            ),
        }
    }

    fn rng(&self, kind: ObjectKind, i: usize) -> Rng {
        Rng::new(self.spec.seed, kind, i)
    }

    /// Generates and inserts every record of `kind`; returns the first id.
    fn generate(&mut self, crm: &mut PortalCrm, kind: ObjectKind, now: i64) -> Option<u64> {
        let n = self.spec.count(kind);
        if n == 0 {
            return None;
        }
        let p = &Props::new(crm.store(kind));
        // One id sequence per portal and nothing else allocates under the lock: the
        // type's ids are `first..first + n`.
        let first = crm.alloc_id();
        for _ in 1..n {
            crm.alloc_id();
        }
        let store = crm.store_mut(kind);
        // Serial on purpose: a second thread generating while this one inserts was
        // 2x slower (glibc frees of another thread's allocations contend).
        for (i, id) in (first..).take(n).enumerate() {
            let rec = self.record(p, Some(store), kind, i, id);
            store.insert(id, rec.0, now, 0);
        }
        match kind {
            ObjectKind::Companies => self.company_ids = first,
            ObjectKind::Contacts => self.contact_ids = first,
            ObjectKind::Deals => self.deal_ids = first,
            _ => {}
        }
        Some(first)
    }

    fn record(
        &mut self,
        p: &Props,
        store: Option<&ObjectStore>,
        kind: ObjectKind,
        i: usize,
        id: u64,
    ) -> Rec {
        match kind {
            ObjectKind::Companies => self.company(p, i),
            ObjectKind::Contacts => self.contact(p, store, i, id),
            ObjectKind::Products => self.product(p, i, id),
            ObjectKind::Deals => self.deal(p, i, id),
            ObjectKind::LineItems => self.line_item(p, i, id),
            ObjectKind::Tickets => self.ticket(p, i, id),
            _ => self.engagement(p, kind, i, id),
        }
    }

    fn link(&mut self, from: (ObjectKind, u64), to: (ObjectKind, u64)) {
        self.links.push((from.0, from.1, to.0, to.1));
    }

    /// The company of contact `i` (round robin), if there are companies.
    fn company_of_contact(&self, i: usize) -> Option<usize> {
        (!self.companies.is_empty()).then(|| i % self.companies.len())
    }

    /// A contact of company `c` (contacts are dealt to companies round robin), or any.
    fn contact_of_company(&self, rng: &mut Rng, c: Option<usize>) -> Option<usize> {
        let n = self.spec.contacts;
        if n == 0 {
            return None;
        }
        match c {
            Some(c) if c < n => {
                let per = self.companies.len().max(1);
                let rounds = (n - c).div_ceil(per);
                Some(c + per * rng.below(rounds))
            }
            _ => Some(rng.below(n)),
        }
    }

    fn company(&mut self, p: &Props, i: usize) -> Rec {
        let mut rng = self.rng(ObjectKind::Companies, i);
        // Unique names and domains: (word, word) pairs first, then numbered.
        let pairs = COMPANY_WORDS.len() * COMPANY_NOUNS.len();
        let k = (i + (self.spec.seed % pairs as u64) as usize) % pairs;
        let (w, noun) = (
            COMPANY_WORDS[k % COMPANY_WORDS.len()],
            COMPANY_NOUNS[k / COMPANY_WORDS.len()],
        );
        let round = i / pairs;
        let suffix = *rng.pick(COMPANY_SUFFIXES);
        let tld = *rng.pick(TLDS);
        let (name, domain) = if round == 0 {
            (
                format!("{w} {noun} {suffix}"),
                format!("{}{}.{tld}", w.to_lowercase(), noun.to_lowercase()),
            )
        } else {
            (
                format!("{w} {noun} {suffix} {}", roman(round + 1)),
                format!(
                    "{}{}{}.{tld}",
                    w.to_lowercase(),
                    noun.to_lowercase(),
                    round + 1
                ),
            )
        };
        let city = rng.below(CITIES.len());
        let (city_name, state, country, zip) = CITIES[city];
        let employees = [5u64, 12, 40, 85, 250, 600, 1500, 5000][rng.below(8)] + rng.range(0, 9);
        let mut r = Rec::with_capacity(16);
        r.set(p.idx("name"), name.as_str());
        r.set(p.idx("domain"), domain.as_str());
        r.setf(p.idx("website"), format_args!("https://www.{domain}"));
        r.set(p.idx("industry"), rng.pick(INDUSTRY_VALUES));
        r.set(
            p.idx("type"),
            *rng.pick(&[
                "PROSPECT", "PROSPECT", "PROSPECT", "PARTNER", "RESELLER", "VENDOR",
            ]),
        );
        r.set(p.idx("phone"), phone(&mut rng));
        r.setf(
            p.idx("address"),
            format_args!("{} {}", rng.range(1, 9999), rng.pick(STREETS)),
        );
        r.set(p.idx("city"), city_name);
        r.set(p.idx("state"), state);
        r.set(p.idx("zip"), zip);
        r.set(p.idx("country"), country);
        r.set(p.idx("numberofemployees"), employees.to_string());
        r.set(
            p.idx("annualrevenue"),
            (employees * rng.range(80, 250) * 1000).to_string(),
        );
        r.setf(
            p.idx("description"),
            format_args!(
                "{name} builds {} for {}.",
                rng.pick(OFFERINGS),
                rng.pick(MARKETS)
            ),
        );
        r.set(
            p.idx("lifecyclestage"),
            *rng.pick(&["lead", "opportunity", "customer", "customer", "evangelist"]),
        );
        r.set(p.idx("founded_year"), rng.range(1950, 2023).to_string());
        r.set(
            p.idx("is_public"),
            if rng.chance(10) { "true" } else { "false" },
        );
        p.owner(&mut r, &mut rng);
        self.companies.push(Company { name, domain, city });
        r
    }

    fn contact(&mut self, p: &Props, store: Option<&ObjectStore>, i: usize, id: u64) -> Rec {
        let mut rng = self.rng(ObjectKind::Contacts, i);
        let f = rng.below(FIRST_NAMES.len());
        let l = rng.below(LAST_NAMES.len());
        let (first, last) = (FIRST_NAMES[f], LAST_NAMES[l]);
        let company = self.company_of_contact(i).map(|c| &self.companies[c]);
        let domain = company.map_or_else(|| *rng.pick(FREE_MAIL), |c| c.domain.as_str());
        // The id keeps emails unique in the portal (one id sequence for all types);
        // only contacts that were there before can hold one already.
        let email_idx = p.idx("email");
        let (fl, ll) = (&self.lower.0[f], &self.lower.1[l]);
        let mut email = format!("{fl}.{ll}{id}@{domain}");
        let mut n = 1;
        while store.is_some_and(|s| p.had_records && s.find_unique(email_idx, &email).is_some()) {
            n += 1;
            email = format!("{fl}.{ll}{id}.{n}@{domain}");
        }
        let city = company.map_or_else(|| rng.below(CITIES.len()), |c| c.city);
        let (city_name, state, country, zip) = CITIES[city];
        let mut r = Rec::with_capacity(16);
        r.set(email_idx, email);
        r.set(p.idx("firstname"), first);
        r.set(p.idx("lastname"), last);
        r.set(p.idx("phone"), phone(&mut rng));
        if rng.chance(40) {
            r.set(p.idx("mobilephone"), phone(&mut rng));
        }
        if let Some(c) = company {
            r.set(p.idx("company"), c.name.as_str());
            r.setf(p.idx("website"), format_args!("https://www.{}", c.domain));
        }
        r.set(p.idx("jobtitle"), *rng.pick(JOB_TITLES));
        r.setf(
            p.idx("address"),
            format_args!("{} {}", rng.range(1, 9999), rng.pick(STREETS)),
        );
        r.set(p.idx("city"), city_name);
        r.set(p.idx("state"), state);
        r.set(p.idx("zip"), zip);
        r.set(p.idx("country"), country);
        r.set(
            p.idx("lifecyclestage"),
            *rng.pick(&[
                "subscriber",
                "lead",
                "lead",
                "marketingqualifiedlead",
                "salesqualifiedlead",
                "opportunity",
                "customer",
            ]),
        );
        r.set(
            p.idx("hs_lead_status"),
            *rng.pick(&[
                "NEW",
                "OPEN",
                "IN_PROGRESS",
                "CONNECTED",
                "ATTEMPTED_TO_CONTACT",
            ]),
        );
        if let Some(c) = self.company_of_contact(i) {
            self.link(
                (ObjectKind::Contacts, id),
                (ObjectKind::Companies, self.company_ids + c as u64),
            );
        }
        p.owner(&mut r, &mut rng);
        self.contact_names.push((f as u16, l as u16));
        r
    }

    fn product(&mut self, p: &Props, i: usize, id: u64) -> Rec {
        let mut rng = self.rng(ObjectKind::Products, i);
        let line = PRODUCT_LINES[i % PRODUCT_LINES.len()];
        let tier = PRODUCT_TIERS[(i / PRODUCT_LINES.len()) % PRODUCT_TIERS.len()];
        let round = i / (PRODUCT_LINES.len() * PRODUCT_TIERS.len());
        let name = if round == 0 {
            format!("{line} {tier}")
        } else {
            format!("{line} {tier} v{}", round + 1)
        };
        let recurring = rng.chance(60);
        let price = if recurring {
            format!(
                "{}.00",
                [19u64, 29, 49, 99, 149, 299, 499, 999][rng.below(8)]
            )
        } else {
            format!("{}.{:02}", rng.range(5, 4999), rng.below(100))
        };
        let sku = format!(
            "{}-{}-{:05}",
            line.chars().take(3).collect::<String>().to_uppercase(),
            tier.chars().take(3).collect::<String>().to_uppercase(),
            i + 1
        );
        let term = recurring.then(|| *rng.pick(&["P1M", "P12M", "P24M"]));
        let mut r = Rec::with_capacity(10);
        r.set(p.idx("name"), name.as_str());
        r.setf(
            p.idx("description"),
            format_args!("{tier} edition of {line}: {}.", rng.pick(OFFERINGS)),
        );
        r.set(p.idx("price"), price.as_str());
        r.set(p.idx("hs_sku"), sku.as_str());
        let cost: f64 = price.parse().unwrap_or(0.0) * 0.35;
        r.setf(p.idx("hs_cost_of_goods_sold"), format_args!("{cost:.2}"));
        if let Some(term) = term {
            r.set(p.idx("hs_recurring_billing_period"), term);
            r.set(
                p.idx("recurringbillingfrequency"),
                if term == "P1M" { "monthly" } else { "annually" },
            );
            r.set(p.idx("hs_product_type"), "service");
        } else {
            r.set(
                p.idx("hs_product_type"),
                *rng.pick(&["inventory", "non_inventory"]),
            );
        }
        r.setf(
            p.idx("hs_url"),
            format_args!("https://shop.example/products/{}", sku.to_ascii_lowercase()),
        );
        self.products.push((
            id,
            Product {
                name,
                price,
                sku,
                term,
            },
        ));
        r
    }

    fn deal(&mut self, p: &Props, i: usize, id: u64) -> Rec {
        let mut rng = self.rng(ObjectKind::Deals, i);
        let company = (!self.companies.is_empty()).then(|| rng.below(self.companies.len()));
        let what = *rng.pick(DEAL_WORDS);
        let name = match company {
            Some(c) => format!("{} - {what}", self.companies[c].name),
            None => format!("{what} #{}", i + 1),
        };
        let stage = p.stage(&mut rng, DEAL_STAGES);
        let amount = rng.range(5, 2000) * 100 + [0, 50][rng.below(2)];
        let close = BASE_MS + i64::try_from(rng.range(0, 364)).unwrap_or(0) * DAY_MS;
        let mut r = Rec::with_capacity(10);
        r.set(p.idx("dealname"), name);
        r.set(p.idx("amount"), amount.to_string());
        r.set(p.idx("dealstage"), stage);
        r.set(p.idx("pipeline"), "default");
        r.set(p.idx("closedate"), time::iso(close));
        r.set(
            p.idx("dealtype"),
            *rng.pick(&["newbusiness", "newbusiness", "existingbusiness"]),
        );
        r.set(p.idx("hs_priority"), *rng.pick(&["low", "medium", "high"]));
        r.set(p.idx("deal_currency_code"), "USD");
        p.owner(&mut r, &mut rng);
        if let Some(c) = company {
            self.link(
                (ObjectKind::Deals, id),
                (ObjectKind::Companies, self.company_ids + c as u64),
            );
        }
        if let Some(contact) = self.contact_of_company(&mut rng, company) {
            self.link(
                (ObjectKind::Deals, id),
                (ObjectKind::Contacts, self.contact_ids + contact as u64),
            );
        }
        r
    }

    fn line_item(&mut self, p: &Props, i: usize, id: u64) -> Rec {
        let mut rng = self.rng(ObjectKind::LineItems, i);
        let (product_id, product) = &self.products[rng.below(self.products.len())];
        let mut r = Rec::with_capacity(10);
        r.set(p.idx("name"), product.name.as_str());
        r.set(p.idx("price"), product.price.as_str());
        r.set(p.idx("hs_sku"), product.sku.as_str());
        r.set(p.idx("hs_product_id"), product_id.to_string());
        r.set(
            p.idx("quantity"),
            [1u64, 1, 1, 2, 3, 5, 10, 25][rng.below(8)].to_string(),
        );
        if rng.chance(15) {
            r.set(p.idx("discount"), rng.range(1, 20).to_string());
        }
        if let Some(term) = product.term {
            r.set(p.idx("hs_recurring_billing_period"), term);
            r.set(
                p.idx("recurringbillingfrequency"),
                if term == "P1M" { "monthly" } else { "annually" },
            );
        }
        if self.spec.deals > 0 {
            let deal = self.deal_ids + (i % self.spec.deals) as u64;
            self.link((ObjectKind::LineItems, id), (ObjectKind::Deals, deal));
        }
        r
    }

    fn ticket(&mut self, p: &Props, i: usize, id: u64) -> Rec {
        let mut rng = self.rng(ObjectKind::Tickets, i);
        let (subject, category) = *rng.pick(TICKET_SUBJECTS);
        let mut r = Rec::with_capacity(8);
        r.set(p.idx("subject"), subject);
        r.setf(
            p.idx("content"),
            format_args!("{subject}. {}", rng.pick(TICKET_DETAILS)),
        );
        r.set(p.idx("hs_pipeline"), "0");
        p.owner(&mut r, &mut rng);
        let stage = p.stage(&mut rng, TICKET_STAGES);
        r.set(p.idx("hs_pipeline_stage"), stage);
        r.set(
            p.idx("hs_ticket_priority"),
            *rng.pick(&["LOW", "MEDIUM", "MEDIUM", "HIGH", "URGENT"]),
        );
        r.set(p.idx("hs_ticket_category"), category);
        r.set(
            p.idx("source_type"),
            *rng.pick(&["CHAT", "EMAIL", "FORM", "PHONE"]),
        );
        if p.is_closed(stage) {
            let at = BASE_MS + i64::try_from(rng.range(0, 364 * 24)).unwrap_or(0) * 3_600_000;
            r.set(p.idx("closed_date"), time::iso(at));
        }
        if self.spec.contacts > 0 {
            let contact = self.contact_ids + rng.below(self.spec.contacts) as u64;
            self.link((ObjectKind::Tickets, id), (ObjectKind::Contacts, contact));
        }
        r
    }

    fn engagement(&mut self, p: &Props, kind: ObjectKind, i: usize, id: u64) -> Rec {
        let mut rng = self.rng(kind, i);
        // Spread over 2025 at 15-minute steps, in working hours (UTC).
        let day = i64::try_from(rng.range(0, 364)).unwrap_or(0);
        let quarter = i64::try_from(rng.range(8 * 4, 18 * 4 - 1)).unwrap_or(0);
        let at = BASE_MS + day * DAY_MS + quarter * 900_000;
        let contact = (self.spec.contacts > 0).then(|| rng.below(self.spec.contacts));
        let who = contact
            .and_then(|c| self.contact_names.get(c))
            .map_or("a customer".to_owned(), |(f, l)| {
                format!("{} {}", FIRST_NAMES[*f as usize], LAST_NAMES[*l as usize])
            });
        let topic = *rng.pick(TOPICS);
        let mut r = Rec::with_capacity(10);
        r.set(p.idx("hs_timestamp"), time::iso(at));
        p.owner(&mut r, &mut rng);
        match kind {
            ObjectKind::Notes => {
                r.setf(
                    p.idx("hs_note_body"),
                    format_args!(
                        "<p>Spoke with {who} about {topic}. {}</p>",
                        rng.pick(NEXT_STEPS)
                    ),
                );
            }
            ObjectKind::Calls => {
                r.setf(p.idx("hs_call_title"), format_args!("Call with {who}"));
                r.setf(
                    p.idx("hs_call_body"),
                    format_args!("<p>Discussed {topic}. {}</p>", rng.pick(NEXT_STEPS)),
                );
                r.set(
                    p.idx("hs_call_duration"),
                    (rng.range(30, 3600) * 1000).to_string(),
                );
                r.set(
                    p.idx("hs_call_direction"),
                    *rng.pick(&["INBOUND", "OUTBOUND", "OUTBOUND"]),
                );
                r.set(
                    p.idx("hs_call_status"),
                    *rng.pick(&["COMPLETED", "COMPLETED", "COMPLETED", "NO_ANSWER", "BUSY"]),
                );
                r.set(p.idx("hs_call_from_number"), phone(&mut rng));
                r.set(p.idx("hs_call_to_number"), phone(&mut rng));
            }
            ObjectKind::Emails => {
                r.setf(p.idx("hs_email_subject"), format_args!("Re: {topic}"));
                r.setf(
                    p.idx("hs_email_text"),
                    format_args!(
                        "Hi {who},\n\nFollowing up on {topic}. {}",
                        rng.pick(NEXT_STEPS)
                    ),
                );
                r.set(
                    p.idx("hs_email_direction"),
                    *rng.pick(&["EMAIL", "INCOMING_EMAIL"]),
                );
                r.set(p.idx("hs_email_status"), "SENT");
            }
            ObjectKind::Meetings => {
                let minutes = [15i64, 30, 30, 45, 60][rng.below(5)];
                r.setf(
                    p.idx("hs_meeting_title"),
                    format_args!("{topic} with {who}"),
                );
                r.setf(
                    p.idx("hs_meeting_body"),
                    format_args!("<p>Agenda: {topic}.</p>"),
                );
                r.set(
                    p.idx("hs_meeting_location"),
                    *rng.pick(&["Zoom", "Google Meet", "Microsoft Teams", "Office", "Phone"]),
                );
                r.set(p.idx("hs_meeting_start_time"), time::iso(at));
                r.set(
                    p.idx("hs_meeting_end_time"),
                    time::iso(at + minutes * 60_000),
                );
                r.set(
                    p.idx("hs_meeting_outcome"),
                    *rng.pick(&[
                        "SCHEDULED",
                        "COMPLETED",
                        "COMPLETED",
                        "RESCHEDULED",
                        "NO_SHOW",
                    ]),
                );
            }
            _ => {
                r.setf(
                    p.idx("hs_task_subject"),
                    format_args!("Follow up with {who} on {topic}"),
                );
                r.setf(
                    p.idx("hs_task_body"),
                    format_args!("<p>{}</p>", rng.pick(NEXT_STEPS)),
                );
                r.set(
                    p.idx("hs_task_status"),
                    *rng.pick(&["NOT_STARTED", "NOT_STARTED", "IN_PROGRESS", "COMPLETED"]),
                );
                r.set(
                    p.idx("hs_task_priority"),
                    *rng.pick(&["LOW", "MEDIUM", "HIGH"]),
                );
                r.set(p.idx("hs_task_type"), *rng.pick(&["CALL", "EMAIL", "TODO"]));
            }
        }
        if let Some(c) = contact {
            self.link(
                (kind, id),
                (ObjectKind::Contacts, self.contact_ids + c as u64),
            );
        }
        r
    }
}

fn phone(rng: &mut Rng) -> String {
    format!("+1 {} 555 {:04}", rng.pick(AREA_CODES), rng.range(100, 199))
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn roman(n: usize) -> String {
    const R: [(usize, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    if n >= 4000 {
        return n.to_string();
    }
    let mut n = n;
    let mut out = String::new();
    for (v, s) in R {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Word lists

const FIRST_NAMES: &[&str] = &[
    "Ada", "Alan", "Amara", "Anna", "Arjun", "Beatriz", "Ben", "Carla", "Carlos", "Chen", "Chloe",
    "Daniel", "Diego", "Elena", "Emma", "Farah", "Felix", "Fatima", "Grace", "Hana", "Hugo",
    "Ines", "Isaac", "Ivan", "Jamal", "Jane", "Javier", "Jonas", "Julia", "Kenji", "Kofi", "Laila",
    "Lars", "Leo", "Lina", "Lucas", "Maria", "Mateo", "Maya", "Mei", "Nadia", "Noah", "Nora",
    "Olivia", "Omar", "Oscar", "Paula", "Priya", "Rafael", "Rosa", "Ryan", "Sara", "Sofia",
    "Tariq", "Theo", "Uma", "Victor", "Wei", "Yara", "Zoe",
];

const LAST_NAMES: &[&str] = &[
    "Abbott", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Bianchi", "Brown", "Castillo", "Chen",
    "Costa", "Dubois", "Eriksson", "Fischer", "Garcia", "Gupta", "Haddad", "Hansen", "Hughes",
    "Ivanova", "Jansen", "Johnson", "Kaur", "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Martin",
    "Meyer", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel",
    "Perez", "Petrov", "Quinn", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Suzuki",
    "Tanaka", "Taylor", "Torres", "Usman", "Van Dijk", "Wagner", "Walker", "Wang", "Weber",
    "Williams", "Wilson", "Yamamoto", "Zhang",
];

const COMPANY_WORDS: &[&str] = &[
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Blue", "Bright", "Cedar", "Cobalt", "Copper",
    "Crest", "Delta", "Ember", "Everest", "Falcon", "Fern", "Granite", "Harbor", "Horizon",
    "Indigo", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nimbus", "North",
    "Oak", "Orbit", "Pine", "Pioneer", "Quartz", "Redwood", "River", "Sage", "Silver", "Summit",
    "Terra", "Vertex",
];

const COMPANY_NOUNS: &[&str] = &[
    "Analytics",
    "Bio",
    "Cloud",
    "Data",
    "Dynamics",
    "Energy",
    "Foods",
    "Freight",
    "Health",
    "Labs",
    "Logic",
    "Logistics",
    "Media",
    "Metrics",
    "Motors",
    "Networks",
    "Partners",
    "Robotics",
    "Software",
    "Systems",
    "Tech",
    "Textiles",
    "Ventures",
    "Works",
];

const COMPANY_SUFFIXES: &[&str] = &["Inc", "LLC", "Ltd", "GmbH", "Co", "Group", "Corp"];

const TLDS: &[&str] = &["com", "com", "com", "io", "co", "net"];

const FREE_MAIL: &[&str] = &["gmail.com", "outlook.com", "yahoo.com", "proton.me"];

const INDUSTRY_VALUES: &[&str] = &[
    "ACCOUNTING",
    "BANKING",
    "BIOTECHNOLOGY",
    "COMPUTER_SOFTWARE",
    "CONSTRUCTION",
    "CONSUMER_GOODS",
    "FINANCIAL_SERVICES",
    "FOOD_BEVERAGES",
    "HOSPITAL_HEALTH_CARE",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "INSURANCE",
    "INTERNET",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MARKETING_AND_ADVERTISING",
    "REAL_ESTATE",
    "RETAIL",
    "TELECOMMUNICATIONS",
];

/// `(city, state, country, postal code)`.
const CITIES: &[(&str, &str, &str, &str)] = &[
    ("Austin", "TX", "United States", "78701"),
    ("Boston", "MA", "United States", "02110"),
    ("Chicago", "IL", "United States", "60601"),
    ("Denver", "CO", "United States", "80202"),
    ("New York", "NY", "United States", "10001"),
    ("Phoenix", "AZ", "United States", "85004"),
    ("San Francisco", "CA", "United States", "94105"),
    ("Seattle", "WA", "United States", "98101"),
    ("Toronto", "ON", "Canada", "M5H 2N2"),
    ("London", "England", "United Kingdom", "EC1A 1BB"),
    ("Dublin", "Leinster", "Ireland", "D02 X285"),
    ("Berlin", "Berlin", "Germany", "10115"),
    ("Paris", "Ile-de-France", "France", "75001"),
    ("Madrid", "Madrid", "Spain", "28013"),
    ("Amsterdam", "North Holland", "Netherlands", "1012 JS"),
    ("Stockholm", "Stockholm", "Sweden", "111 20"),
    ("Tokyo", "Tokyo", "Japan", "100-0001"),
    ("Singapore", "Singapore", "Singapore", "048583"),
    ("Sydney", "NSW", "Australia", "2000"),
    ("Bengaluru", "Karnataka", "India", "560001"),
];

const STREETS: &[&str] = &[
    "Main Street",
    "Market Street",
    "Oak Avenue",
    "Park Lane",
    "Harbor Road",
    "Elm Street",
    "King Street",
    "Station Road",
    "River Drive",
    "Hill Road",
];

const AREA_CODES: &[&str] = &["212", "312", "415", "512", "617", "720", "206", "602"];

const JOB_TITLES: &[&str] = &[
    "CEO",
    "CTO",
    "VP of Sales",
    "VP of Marketing",
    "Head of Operations",
    "Sales Manager",
    "Account Executive",
    "Marketing Manager",
    "Product Manager",
    "Software Engineer",
    "Customer Success Manager",
    "Finance Director",
    "Office Manager",
    "Procurement Lead",
    "Data Analyst",
];

const OFFERINGS: &[&str] = &[
    "analytics dashboards",
    "supply-chain software",
    "payment infrastructure",
    "field-service tools",
    "customer support platforms",
    "fleet tracking",
    "clinical data systems",
    "marketing automation",
    "industrial sensors",
    "e-commerce storefronts",
];

const MARKETS: &[&str] = &[
    "mid-market retailers",
    "hospitals",
    "logistics firms",
    "banks",
    "manufacturers",
    "SaaS companies",
    "public agencies",
    "restaurants",
];

const PRODUCT_LINES: &[&str] = &[
    "Analytics Suite",
    "CRM Connector",
    "Data Warehouse",
    "Email Toolkit",
    "Field App",
    "Helpdesk",
    "Inventory Tracker",
    "Onboarding Package",
    "Payments Gateway",
    "Reporting Add-on",
    "Security Audit",
    "Training Day",
];

const PRODUCT_TIERS: &[&str] = &["Starter", "Professional", "Enterprise", "Premium"];

const DEAL_WORDS: &[&str] = &[
    "New license",
    "Renewal",
    "Upsell",
    "Expansion",
    "Pilot",
    "Services",
    "Annual contract",
    "Migration project",
];

const TICKET_SUBJECTS: &[(&str, &str)] = &[
    ("Cannot log in", "PRODUCT_ISSUE"),
    ("Export fails with an error", "PRODUCT_ISSUE"),
    ("Sync is slow", "PRODUCT_ISSUE"),
    ("Invoice shows the wrong amount", "BILLING_ISSUE"),
    ("Card was charged twice", "BILLING_ISSUE"),
    ("Please add a dark mode", "FEATURE_REQUEST"),
    ("Request: bulk edit", "FEATURE_REQUEST"),
    ("How do I add a user?", "GENERAL_INQUIRY"),
    ("Question about the contract", "GENERAL_INQUIRY"),
];

const TICKET_DETAILS: &[&str] = &[
    "It started this morning.",
    "Happens for the whole team.",
    "Screenshot attached.",
    "Urgent before our quarter close.",
    "Seen in Chrome and Firefox.",
];

const TOPICS: &[&str] = &[
    "pricing",
    "the renewal",
    "onboarding",
    "the integration",
    "a product demo",
    "the proposal",
    "contract terms",
    "the rollout plan",
    "support hours",
    "the quarterly review",
];

const NEXT_STEPS: &[&str] = &[
    "Send the proposal by Friday.",
    "Schedule a demo with the team.",
    "Waiting on legal review.",
    "They will decide next week.",
    "Follow up in two weeks.",
    "Loop in the technical lead.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_set_counts() {
        let mut spec = SeedSpec::default();
        assert!(spec.set_flag("contacts", "10").is_ok());
        assert!(spec.set_flag("line-items", "3").is_ok());
        assert!(spec.set_flag("line_items", "4").is_ok());
        assert!(spec.set_flag("portal", "24682003").is_ok());
        assert!(spec.set_flag("rng", "7").is_ok());
        assert_eq!(
            (spec.contacts, spec.line_items, spec.portal_id, spec.seed),
            (10, 4, 24_682_003, 7)
        );
        assert!(spec.set_flag("contact", "1").is_err());
        assert!(spec.set_flag("widgets", "1").is_err());
        assert!(spec.set_flag("deals", "many").is_err());
        assert_eq!(spec.total(), 14);
    }

    #[test]
    fn rng_is_stable() {
        let mut a = Rng::new(1, ObjectKind::Contacts, 5);
        let mut b = Rng::new(1, ObjectKind::Contacts, 5);
        let mut c = Rng::new(2, ObjectKind::Contacts, 5);
        let (x, y, z) = (a.next(), b.next(), c.next());
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_eq!(roman(14), "XIV");
    }
}

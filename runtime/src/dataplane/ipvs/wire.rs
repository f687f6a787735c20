//! IPVS generic-netlink messages as bytes: a request is built from its
//! parts, a reply is parsed into them. No socket here, so that every byte
//! can be checked in unit tests and garbage from the kernel is an error,
//! never a panic.
//!
//! The layout and the numbers are those of `include/uapi/linux/ip_vs.h`,
//! `genetlink.h` and `netlink.h`; the attribute order is keepalived's
//! (`ipvs_nl_fill_service_attr`, `ipvs_nl_fill_dest_attr`), so the kernel
//! sees what it would see from keepalived.

/// `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;
/// `struct genlmsghdr`.
const GENL_HDRLEN: usize = 4;
/// `struct nlattr`.
const NLA_HDRLEN: usize = 4;
/// Strips `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` from an attribute type.
const NLA_TYPE_MASK: u16 = 0x3fff;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// The generic-netlink controller's fixed family id.
pub const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// `IPVS_GENL_NAME`.
pub const IPVS_FAMILY_NAME: &str = "IPVS";
/// `IPVS_GENL_VERSION`.
const IPVS_GENL_VERSION: u8 = 1;

const CMD_ATTR_SERVICE: u16 = 1;
const CMD_ATTR_DEST: u16 = 2;

const SVC_ATTR_AF: u16 = 1;
const SVC_ATTR_PROTOCOL: u16 = 2;
const SVC_ATTR_ADDR: u16 = 3;
const SVC_ATTR_PORT: u16 = 4;
const SVC_ATTR_FWMARK: u16 = 5;
const SVC_ATTR_SCHED_NAME: u16 = 6;
const SVC_ATTR_FLAGS: u16 = 7;
const SVC_ATTR_TIMEOUT: u16 = 8;
const SVC_ATTR_NETMASK: u16 = 9;

const DEST_ATTR_ADDR: u16 = 1;
const DEST_ATTR_PORT: u16 = 2;
const DEST_ATTR_FWD_METHOD: u16 = 3;
const DEST_ATTR_WEIGHT: u16 = 4;
const DEST_ATTR_U_THRESH: u16 = 5;
const DEST_ATTR_L_THRESH: u16 = 6;
const DEST_ATTR_ADDR_FAMILY: u16 = 11;
const DEST_ATTR_TUN_TYPE: u16 = 13;
const DEST_ATTR_TUN_PORT: u16 = 14;
const DEST_ATTR_TUN_FLAGS: u16 = 15;

/// Address families, as Linux numbers them.
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;

/// IP protocol numbers.
pub const IPPROTO_TCP: u16 = 6;
pub const IPPROTO_UDP: u16 = 17;
pub const IPPROTO_SCTP: u16 = 132;

/// `IP_VS_SVC_F_*`.
pub const SVC_F_PERSISTENT: u32 = 0x1;
pub const SVC_F_ONEPACKET: u32 = 0x4;
pub const SVC_F_SCHED1: u32 = 0x8;
pub const SVC_F_SCHED2: u32 = 0x10;
pub const SVC_F_SCHED3: u32 = 0x20;

/// `IP_VS_CONN_F_*` forwarding methods, and the mask the kernel applies.
pub const FWD_MASQ: u32 = 0;
pub const FWD_TUNNEL: u32 = 2;
pub const FWD_DROUTE: u32 = 3;
pub const FWD_MASK: u32 = 0x7;

/// `IP_VS_CONN_F_TUNNEL_TYPE_*`.
pub const TUN_IPIP: u8 = 0;
pub const TUN_GUE: u8 = 1;
pub const TUN_GRE: u8 = 2;

/// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
pub const TUN_F_CSUM: u16 = 0x1;
pub const TUN_F_REMCSUM: u16 = 0x2;

/// An IPVS command (`IPVS_CMD_*`) this client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    NewService = 1,
    SetService = 2,
    DelService = 3,
    GetService = 4,
    NewDest = 5,
    SetDest = 6,
    DelDest = 7,
    GetDest = 8,
}

/// Bytes that are not a well-formed reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than its header or its length field says.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A length field that cannot be right.
    #[error("bad length in {0}")]
    BadLength(&'static str),
    /// A required attribute is absent.
    #[error("missing attribute {0}")]
    Missing(&'static str),
    /// An attribute with a payload of the wrong size or content.
    #[error("malformed attribute {0}")]
    Malformed(&'static str),
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Attributes being written, in order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AttrWriter {
    buf: Vec<u8>,
}

impl AttrWriter {
    /// The bytes written so far.
    #[cfg(test)]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// One attribute, padded to 4 bytes.
    pub fn put(&mut self, ty: u16, payload: &[u8]) {
        // Every attribute here is a few bytes; saturate rather than wrap
        // should that ever change, so the kernel rejects it loudly.
        let len = u16::try_from(NLA_HDRLEN + payload.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.buf.resize(align4(self.buf.len()), 0);
    }

    fn u8(&mut self, ty: u16, v: u8) {
        self.put(ty, &[v]);
    }

    fn u16(&mut self, ty: u16, v: u16) {
        self.put(ty, &v.to_ne_bytes());
    }

    fn be16(&mut self, ty: u16, v: u16) {
        self.put(ty, &v.to_be_bytes());
    }

    /// A host-order u32 attribute.
    pub fn u32(&mut self, ty: u16, v: u32) {
        self.put(ty, &v.to_ne_bytes());
    }

    fn string(&mut self, ty: u16, s: &str) {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.put(ty, &b);
    }

    /// A nest holding `inner`'s attributes.
    pub fn nest(&mut self, ty: u16, inner: &AttrWriter) {
        // No NLA_F_NESTED: the kernel parses these nests with
        // nla_parse_nested_deprecated and emits them without the flag.
        self.put(ty, &inner.buf);
    }
}

/// Splits attributes into (type, payload), in order.
pub fn parse_attrs(mut buf: &[u8]) -> Result<Vec<(u16, &[u8])>, WireError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        if buf.len() < NLA_HDRLEN {
            return Err(WireError::Truncated("attribute header"));
        }
        let len = usize::from(u16::from_ne_bytes([buf[0], buf[1]]));
        let ty = u16::from_ne_bytes([buf[2], buf[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN {
            return Err(WireError::BadLength("attribute"));
        }
        if len > buf.len() {
            return Err(WireError::Truncated("attribute"));
        }
        out.push((ty, &buf[NLA_HDRLEN..len]));
        // The last attribute's padding may be missing.
        buf = &buf[align4(len).min(buf.len())..];
    }
    Ok(out)
}

fn find<'a>(attrs: &[(u16, &'a [u8])], ty: u16) -> Option<&'a [u8]> {
    attrs.iter().find(|(t, _)| *t == ty).map(|(_, p)| *p)
}

fn get_u16(attrs: &[(u16, &[u8])], ty: u16, name: &'static str) -> Result<Option<u16>, WireError> {
    find(attrs, ty)
        .map(|p| {
            p.get(..2)
                .map(|b| u16::from_ne_bytes([b[0], b[1]]))
                .ok_or(WireError::Malformed(name))
        })
        .transpose()
}

fn get_be16(attrs: &[(u16, &[u8])], ty: u16, name: &'static str) -> Result<Option<u16>, WireError> {
    find(attrs, ty)
        .map(|p| {
            p.get(..2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or(WireError::Malformed(name))
        })
        .transpose()
}

fn get_u32(attrs: &[(u16, &[u8])], ty: u16, name: &'static str) -> Result<Option<u32>, WireError> {
    find(attrs, ty)
        .map(|p| {
            p.get(..4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(WireError::Malformed(name))
        })
        .transpose()
}

fn get_bytes4(
    attrs: &[(u16, &[u8])],
    ty: u16,
    name: &'static str,
) -> Result<Option<[u8; 4]>, WireError> {
    find(attrs, ty)
        .map(|p| {
            p.get(..4)
                .map(|b| [b[0], b[1], b[2], b[3]])
                .ok_or(WireError::Malformed(name))
        })
        .transpose()
}

fn get_addr(
    attrs: &[(u16, &[u8])],
    ty: u16,
    name: &'static str,
) -> Result<Option<[u8; 16]>, WireError> {
    find(attrs, ty)
        .map(|p| {
            if p.len() > 16 {
                return Err(WireError::Malformed(name));
            }
            let mut a = [0u8; 16];
            a[..p.len()].copy_from_slice(p);
            Ok(a)
        })
        .transpose()
}

fn required<T>(v: Option<T>, name: &'static str) -> Result<T, WireError> {
    v.ok_or(WireError::Missing(name))
}

/// A netlink request: header, genl header, attributes.
pub fn request(
    family: u16,
    flags: u16,
    seq: u32,
    cmd: u8,
    version: u8,
    attrs: &AttrWriter,
) -> Vec<u8> {
    let len = NLMSG_HDRLEN + GENL_HDRLEN + attrs.buf.len();
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    b.extend_from_slice(&family.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    // Port id 0: the kernel fills in the socket's own.
    b.extend_from_slice(&0u32.to_ne_bytes());
    b.extend_from_slice(&[cmd, version, 0, 0]);
    b.extend_from_slice(&attrs.buf);
    b
}

/// `CTRL_CMD_GETFAMILY` for `name`.
pub fn get_family_request(seq: u32, name: &str) -> Vec<u8> {
    let mut a = AttrWriter::default();
    a.string(CTRL_ATTR_FAMILY_NAME, name);
    request(GENL_ID_CTRL, NLM_F_ACK, seq, CTRL_CMD_GETFAMILY, 1, &a)
}

/// The family id in a controller reply's attributes.
pub fn parse_family_id(attrs: &[u8]) -> Result<u16, WireError> {
    let attrs = parse_attrs(attrs)?;
    required(
        get_u16(&attrs, CTRL_ATTR_FAMILY_ID, "CTRL_ATTR_FAMILY_ID")?,
        "CTRL_ATTR_FAMILY_ID",
    )
}

/// One message of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<'a> {
    /// A generic-netlink message: a dump entry or a doit's answer.
    Genl {
        /// Its sequence number.
        seq: u32,
        /// Its genl command.
        cmd: u8,
        /// Its attributes, unparsed.
        attrs: &'a [u8],
    },
    /// `NLMSG_ERROR` with error 0.
    Ack {
        /// Sequence number of the request.
        seq: u32,
    },
    /// `NLMSG_ERROR` with an errno.
    Error {
        /// Sequence number of the request.
        seq: u32,
        /// Positive errno.
        errno: i32,
    },
    /// `NLMSG_DONE`: the end of a dump (with the dump's error, if any).
    Done {
        /// Sequence number of the request.
        seq: u32,
        /// Positive errno, or 0.
        errno: i32,
    },
    /// Anything else (`NLMSG_NOOP`, another family's message).
    Other,
}

fn read_i32(p: &[u8]) -> Option<i32> {
    p.get(..4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Splits one datagram into its messages. `family` is the genl family the
/// messages of interest carry as their type.
pub fn parse_replies(mut buf: &[u8], family: u16) -> Result<Vec<Reply<'_>>, WireError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        if buf.len() < NLMSG_HDRLEN {
            return Err(WireError::Truncated("netlink header"));
        }
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let len = usize::try_from(len).map_err(|_| WireError::BadLength("netlink message"))?;
        let ty = u16::from_ne_bytes([buf[4], buf[5]]);
        let seq = u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]);
        if len < NLMSG_HDRLEN {
            return Err(WireError::BadLength("netlink message"));
        }
        if len > buf.len() {
            return Err(WireError::Truncated("netlink message"));
        }
        let payload = &buf[NLMSG_HDRLEN..len];
        out.push(match ty {
            NLMSG_ERROR => match read_i32(payload) {
                Some(0) => Reply::Ack { seq },
                Some(e) => Reply::Error {
                    seq,
                    errno: e.saturating_neg(),
                },
                None => return Err(WireError::Truncated("NLMSG_ERROR")),
            },
            // Old kernels send DONE without a payload.
            NLMSG_DONE => Reply::Done {
                seq,
                errno: read_i32(payload).unwrap_or(0).saturating_neg().max(0),
            },
            t if t == family => {
                if payload.len() < GENL_HDRLEN {
                    return Err(WireError::Truncated("genl header"));
                }
                Reply::Genl {
                    seq,
                    cmd: payload[0],
                    attrs: &payload[GENL_HDRLEN..],
                }
            }
            _ => Reply::Other,
        });
        buf = &buf[align4(len).min(buf.len())..];
    }
    Ok(out)
}

/// What identifies a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvcId {
    /// Protocol, address (network order, zero-padded) and port.
    Addr {
        /// IP protocol number.
        protocol: u16,
        /// The address; IPv4 in the first 4 bytes.
        addr: [u8; 16],
        /// The port.
        port: u16,
    },
    /// A firewall mark.
    Fwmark(u32),
}

/// A service's settings, present in NEW/SET_SERVICE and in dumps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvcFull {
    /// Scheduler name.
    pub sched: String,
    /// `IP_VS_SVC_F_*` bits.
    pub flags: u32,
    /// Persistence timeout, seconds.
    pub timeout: u32,
    /// `IPVS_SVC_ATTR_NETMASK` as it goes on the wire: a be32 mask for
    /// IPv4, a native u32 prefix length for IPv6.
    pub netmask: [u8; 4],
}

/// The `IPVS_CMD_ATTR_SERVICE` nest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRepr {
    /// `AF_INET` or `AF_INET6`.
    pub af: u16,
    /// Identity.
    pub id: SvcId,
    /// Settings; `None` for an identifying nest (DEL, dest commands).
    pub full: Option<SvcFull>,
}

impl ServiceRepr {
    /// Writes the nest's contents in keepalived's order.
    pub fn emit(&self, w: &mut AttrWriter) {
        w.u16(SVC_ATTR_AF, self.af);
        match self.id {
            SvcId::Fwmark(m) => w.u32(SVC_ATTR_FWMARK, m),
            SvcId::Addr {
                protocol,
                addr,
                port,
            } => {
                w.u16(SVC_ATTR_PROTOCOL, protocol);
                w.put(SVC_ATTR_ADDR, &addr);
                w.be16(SVC_ATTR_PORT, port);
            }
        }
        if let Some(f) = &self.full {
            w.string(SVC_ATTR_SCHED_NAME, &f.sched);
            let mut flags = [0u8; 8];
            flags[..4].copy_from_slice(&f.flags.to_ne_bytes());
            // Mask all ones: the flags replace the kernel's, as keepalived does.
            flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
            w.put(SVC_ATTR_FLAGS, &flags);
            w.u32(SVC_ATTR_TIMEOUT, f.timeout);
            w.put(SVC_ATTR_NETMASK, &f.netmask);
        }
    }

    /// Parses a nest's contents. `full` is present when the scheduler is.
    pub fn parse(nest: &[u8]) -> Result<ServiceRepr, WireError> {
        let a = parse_attrs(nest)?;
        let af = required(get_u16(&a, SVC_ATTR_AF, "SVC_AF")?, "SVC_AF")?;
        let id = match get_u32(&a, SVC_ATTR_FWMARK, "SVC_FWMARK")? {
            Some(m) => SvcId::Fwmark(m),
            None => SvcId::Addr {
                protocol: required(
                    get_u16(&a, SVC_ATTR_PROTOCOL, "SVC_PROTOCOL")?,
                    "SVC_PROTOCOL",
                )?,
                addr: required(get_addr(&a, SVC_ATTR_ADDR, "SVC_ADDR")?, "SVC_ADDR")?,
                port: required(get_be16(&a, SVC_ATTR_PORT, "SVC_PORT")?, "SVC_PORT")?,
            },
        };
        let full = match find(&a, SVC_ATTR_SCHED_NAME) {
            None => None,
            Some(s) => {
                let s = s.split(|&b| b == 0).next().unwrap_or_default();
                let sched = std::str::from_utf8(s)
                    .map_err(|_| WireError::Malformed("SVC_SCHED_NAME"))?
                    .to_string();
                let flags = required(get_bytes4(&a, SVC_ATTR_FLAGS, "SVC_FLAGS")?, "SVC_FLAGS")?;
                Some(SvcFull {
                    sched,
                    flags: u32::from_ne_bytes(flags),
                    timeout: required(
                        get_u32(&a, SVC_ATTR_TIMEOUT, "SVC_TIMEOUT")?,
                        "SVC_TIMEOUT",
                    )?,
                    netmask: required(
                        get_bytes4(&a, SVC_ATTR_NETMASK, "SVC_NETMASK")?,
                        "SVC_NETMASK",
                    )?,
                })
            }
        };
        Ok(ServiceRepr { af, id, full })
    }
}

/// A tunnel destination's encapsulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunRepr {
    /// `TUN_IPIP`, `TUN_GUE` or `TUN_GRE`.
    pub ty: u8,
    /// GUE's UDP port.
    pub port: Option<u16>,
    /// `TUN_F_*` bits.
    pub flags: Option<u16>,
}

/// A destination's settings, present in NEW/SET_DEST and in dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestFull {
    /// `FWD_*`.
    pub fwd: u32,
    /// Weight.
    pub weight: u32,
    /// Encapsulation, for tunnels (dumps carry it for every destination).
    pub tun: Option<TunRepr>,
    /// Upper connection threshold.
    pub u_thresh: u32,
    /// Lower connection threshold.
    pub l_thresh: u32,
}

/// The `IPVS_CMD_ATTR_DEST` nest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestRepr {
    /// The destination's family, when it may differ from the service's.
    pub af: Option<u16>,
    /// Address, network order; IPv4 in the first 4 bytes.
    pub addr: [u8; 16],
    /// Port.
    pub port: u16,
    /// Settings; `None` for DEL_DEST.
    pub full: Option<DestFull>,
}

impl DestRepr {
    /// Writes the nest's contents in keepalived's order.
    pub fn emit(&self, w: &mut AttrWriter) {
        if let Some(af) = self.af {
            w.u16(DEST_ATTR_ADDR_FAMILY, af);
        }
        w.put(DEST_ATTR_ADDR, &self.addr);
        w.be16(DEST_ATTR_PORT, self.port);
        if let Some(f) = &self.full {
            w.u32(DEST_ATTR_FWD_METHOD, f.fwd);
            w.u32(DEST_ATTR_WEIGHT, f.weight);
            if let Some(t) = &f.tun {
                w.u8(DEST_ATTR_TUN_TYPE, t.ty);
                if let Some(p) = t.port {
                    w.be16(DEST_ATTR_TUN_PORT, p);
                }
                if let Some(fl) = t.flags {
                    w.u16(DEST_ATTR_TUN_FLAGS, fl);
                }
            }
            w.u32(DEST_ATTR_U_THRESH, f.u_thresh);
            w.u32(DEST_ATTR_L_THRESH, f.l_thresh);
        }
    }

    /// Parses a nest's contents. `full` is present when the forwarding
    /// method is.
    pub fn parse(nest: &[u8]) -> Result<DestRepr, WireError> {
        let a = parse_attrs(nest)?;
        let full = match get_u32(&a, DEST_ATTR_FWD_METHOD, "DEST_FWD_METHOD")? {
            None => None,
            Some(fwd) => {
                let tun = find(&a, DEST_ATTR_TUN_TYPE)
                    .map(|p| {
                        p.first()
                            .copied()
                            .ok_or(WireError::Malformed("DEST_TUN_TYPE"))
                    })
                    .transpose()?
                    .map(|ty| -> Result<TunRepr, WireError> {
                        Ok(TunRepr {
                            ty,
                            port: get_be16(&a, DEST_ATTR_TUN_PORT, "DEST_TUN_PORT")?,
                            flags: get_u16(&a, DEST_ATTR_TUN_FLAGS, "DEST_TUN_FLAGS")?,
                        })
                    })
                    .transpose()?;
                Some(DestFull {
                    fwd,
                    weight: required(get_u32(&a, DEST_ATTR_WEIGHT, "DEST_WEIGHT")?, "DEST_WEIGHT")?,
                    tun,
                    u_thresh: required(
                        get_u32(&a, DEST_ATTR_U_THRESH, "DEST_U_THRESH")?,
                        "DEST_U_THRESH",
                    )?,
                    l_thresh: required(
                        get_u32(&a, DEST_ATTR_L_THRESH, "DEST_L_THRESH")?,
                        "DEST_L_THRESH",
                    )?,
                })
            }
        };
        Ok(DestRepr {
            af: get_u16(&a, DEST_ATTR_ADDR_FAMILY, "DEST_ADDR_FAMILY")?,
            addr: required(get_addr(&a, DEST_ATTR_ADDR, "DEST_ADDR")?, "DEST_ADDR")?,
            port: required(get_be16(&a, DEST_ATTR_PORT, "DEST_PORT")?, "DEST_PORT")?,
            full,
        })
    }
}

/// An IPVS request: `cmd` about `svc` (and `dest`, for dest commands).
pub fn ipvs_request(
    family: u16,
    flags: u16,
    seq: u32,
    cmd: Cmd,
    svc: Option<&ServiceRepr>,
    dest: Option<&DestRepr>,
) -> Vec<u8> {
    let mut a = AttrWriter::default();
    if let Some(s) = svc {
        let mut n = AttrWriter::default();
        s.emit(&mut n);
        a.nest(CMD_ATTR_SERVICE, &n);
    }
    if let Some(d) = dest {
        let mut n = AttrWriter::default();
        d.emit(&mut n);
        a.nest(CMD_ATTR_DEST, &n);
    }
    request(family, flags, seq, cmd as u8, IPVS_GENL_VERSION, &a)
}

/// The service in a GET_SERVICE dump entry.
pub fn parse_service_msg(attrs: &[u8]) -> Result<ServiceRepr, WireError> {
    let a = parse_attrs(attrs)?;
    ServiceRepr::parse(required(find(&a, CMD_ATTR_SERVICE), "CMD_ATTR_SERVICE")?)
}

/// The destination in a GET_DEST dump entry.
pub fn parse_dest_msg(attrs: &[u8]) -> Result<DestRepr, WireError> {
    let a = parse_attrs(attrs)?;
    DestRepr::parse(required(find(&a, CMD_ATTR_DEST), "CMD_ATTR_DEST")?)
}

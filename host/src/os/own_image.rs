//! Parts of bkt's own executable file mapped afresh, for code bkt carries in its binary (the
//! builtins' native code): a private file mapping costs no copy, and the kernel reads in only
//! the pages that run, from the page cache every bkt process shares.

use std::os::fd::AsRawFd;
use std::ptr::NonNull;

/// A read-only private mapping of the bytes of bkt's executable file that hold `bytes`, a
/// static of this binary that starts on a page boundary. `None` when it cannot be made (no
/// `/proc`, pages larger than the static's alignment, bytes that are not the file's): the
/// caller then copies `bytes`. The mapping is never removed: code may run from it until the
/// process ends.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn map(bytes: &'static [u8]) -> Option<NonNull<[u8]>> {
    let page = page_size()?;
    let start = bytes.as_ptr() as usize;
    if bytes.is_empty() || !start.is_multiple_of(page) {
        return None;
    }
    let offset = file_offset(start, bytes.len())?;
    if !offset.is_multiple_of(page as u64) {
        return None;
    }
    let file = std::fs::File::open("/proc/self/exe").ok()?;
    // SAFETY: a new mapping at an address the kernel chooses, so it replaces nothing; the
    // file stays open until mmap returns, and the mapping keeps its own reference.
    let mapped = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            bytes.len(),
            libc::PROT_READ,
            libc::MAP_PRIVATE,
            file.as_raw_fd(),
            libc::off_t::try_from(offset).ok()?,
        )
    };
    if mapped == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: `mapped` is `bytes.len()` readable bytes, just mapped.
    let copy = unsafe { std::slice::from_raw_parts(mapped.cast::<u8>(), bytes.len()) };
    if !same_ends(copy, bytes, page) {
        // SAFETY: the mapping made above, not yet handed to anyone.
        unsafe { libc::munmap(mapped, bytes.len()) };
        return None;
    }
    NonNull::new(std::ptr::slice_from_raw_parts_mut(
        mapped.cast::<u8>(),
        bytes.len(),
    ))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn map(_bytes: &'static [u8]) -> Option<NonNull<[u8]>> {
    None
}

/// The system's page size.
pub fn page_size() -> Option<usize> {
    // SAFETY: sysconf reads a constant of the system.
    usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .ok()
        .filter(|p| *p > 0)
}

/// Whether the first and the last page of `mapped` hold what `bytes` does: the check that the
/// file offset was worked out right, without reading every page in.
fn same_ends(mapped: &[u8], bytes: &[u8], page: usize) -> bool {
    let head = page.min(bytes.len());
    let tail = bytes.len() - head;
    mapped[..head] == bytes[..head] && mapped[tail..] == bytes[tail..]
}

/// Where in the executable file the bytes at `start..start + len` of memory come from: the
/// loadable segment of the main program that holds them, by its program headers.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn file_offset(start: usize, len: usize) -> Option<u64> {
    struct Search {
        start: usize,
        len: usize,
        offset: Option<u64>,
    }

    unsafe extern "C" fn main_program(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: `data` is the `Search` passed below; `info` and its program headers are
        // valid for this call (dl_iterate_phdr's contract).
        let (search, info) = unsafe { (&mut *data.cast::<Search>(), &*info) };
        let headers = if info.dlpi_phdr.is_null() {
            &[][..]
        } else {
            // SAFETY: as above.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) }
        };
        for header in headers.iter().filter(|h| h.p_type == libc::PT_LOAD) {
            let Some(loaded) = usize::try_from(info.dlpi_addr.wrapping_add(header.p_vaddr)).ok()
            else {
                continue;
            };
            let in_file = usize::try_from(header.p_filesz).unwrap_or(0);
            let inside = search.start >= loaded
                && search
                    .start
                    .checked_add(search.len)
                    .is_some_and(|end| end <= loaded.saturating_add(in_file));
            if inside {
                search.offset = Some(header.p_offset + (search.start - loaded) as u64);
            }
        }
        // The main program is the first object visited; nothing after it is looked at.
        1
    }

    let mut search = Search {
        start,
        len,
        offset: None,
    };
    // SAFETY: the callback only reads what dl_iterate_phdr hands it and writes `search`,
    // which outlives the call.
    unsafe {
        libc::dl_iterate_phdr(
            Some(main_program),
            (&mut search as *mut Search).cast::<libc::c_void>(),
        );
    }
    search.offset
}

#[cfg(test)]
mod tests {
    #[repr(C, align(4096))]
    struct Page<T>(T);

    static SAMPLE: Page<[u8; 10_000]> = Page(sample());

    const fn sample() -> [u8; 10_000] {
        let mut bytes = [0u8; 10_000];
        let mut i = 0;
        while i < bytes.len() {
            bytes[i] = (i * 7 % 251) as u8;
            i += 1;
        }
        bytes
    }

    #[test]
    fn a_static_of_the_binary_maps_to_its_own_bytes() {
        let mapped = super::map(&SAMPLE.0).expect("mapped from the test binary");
        // SAFETY: the mapping is never removed.
        let mapped = unsafe { mapped.as_ref() };
        assert_ne!(mapped.as_ptr(), SAMPLE.0.as_ptr());
        assert_eq!(mapped, &SAMPLE.0[..]);
    }

    #[test]
    fn bytes_off_a_page_boundary_are_not_mapped() {
        assert!(super::map(&SAMPLE.0[1..]).is_none());
    }
}

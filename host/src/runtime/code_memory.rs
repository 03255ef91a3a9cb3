//! How plugin code is made executable: what wasmtime does itself (the code's pages are
//! read-only, then its text read and execute, the instruction cache kept coherent), done here
//! because wasmtime does it only for memory it allocated, and the builtins' native code is
//! mapped from bkt's executable file instead (`os::own_image`).

use wasmtime::CustomCodeMemory;

pub struct PageProtection {
    page: usize,
}

impl PageProtection {
    pub fn new() -> PageProtection {
        PageProtection {
            page: crate::os::own_image::page_size().unwrap_or(4096),
        }
    }
}

impl CustomCodeMemory for PageProtection {
    fn required_alignment(&self) -> usize {
        self.page
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // SAFETY: wasmtime hands over the text of code it is publishing, page-aligned
        // (`required_alignment`) and not running yet; for code it compiled the cache is made
        // coherent before the pages become executable, as wasmtime itself does.
        unsafe {
            wasmtime_internal_jit_icache_coherence::clear_cache(ptr.cast(), len)?;
            protect(ptr, len, libc::PROT_READ | libc::PROT_EXEC)?;
        }
        wasmtime_internal_jit_icache_coherence::pipeline_flush_mt()?;
        Ok(())
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        // SAFETY: wasmtime hands back text no code runs from any more.
        unsafe { protect(ptr, len, libc::PROT_READ | libc::PROT_WRITE) }
    }
}

/// # Safety
/// `ptr..ptr + len` must be whole pages of one mapping that nothing is using in a way the new
/// protection breaks.
unsafe fn protect(ptr: *const u8, len: usize, prot: libc::c_int) -> wasmtime::Result<()> {
    // SAFETY: the caller's contract.
    if unsafe { libc::mprotect(ptr.cast_mut().cast(), len, prot) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().into())
    }
}

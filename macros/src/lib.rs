//! The `#[track_performance]` attribute of rfm_perf. Use it through `rfm_perf` or
//! `rfm_perf_core`, which re-export it.

use proc_macro::TokenStream;
use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

/// Times every call of a function as a scope in the global tracker.
///
/// `#[track_performance]` names the scope `module_path::fn_name`;
/// `#[track_performance("mandelbrot.generation")]` names it explicitly. Works on free
/// functions, methods, generic and `async` functions. The scope closes on early `return`, `?`
/// and panics. An `async fn` is timed from its first poll to completion by a `Send` guard kept
/// outside the per-thread call tree, so the future stays `Send`. A `const fn` is a compile error.
///
/// The example on `rfm_perf_core::track_performance` runs as a doctest of `rfm_perf_core`
/// (this crate has no dev-dependency on the tracker, which would change the features the
/// Bevy stack's proc macros are built with).
#[proc_macro_attribute]
pub fn track_performance(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = TokenStream2::from(attr);
    let item2 = TokenStream2::from(item.clone());
    let name = if attr.is_empty() {
        None
    } else {
        match syn::parse2::<LitStr>(attr.clone()) {
            Ok(lit) if lit.value().is_empty() => {
                return with_error(
                    item2,
                    lit.span(),
                    "#[track_performance(\"…\")]: the scope name must not be empty",
                );
            }
            Ok(lit) => Some(lit),
            Err(_) => {
                return with_error(
                    item2,
                    attr.span(),
                    "#[track_performance] takes no argument or one string literal: #[track_performance(\"my.scope\")]",
                );
            }
        }
    };
    // Like tracing: if the item does not parse, hand it back unchanged so rustc reports the
    // user's own syntax error at the right place.
    let Ok(mut func) = syn::parse::<ItemFn>(item) else {
        return item2.into();
    };
    if let Some(c) = &func.sig.constness {
        return with_error(
            quote!(#func),
            c.span(),
            "#[track_performance] cannot time a `const fn`: it may run at compile time, where there is no clock. Remove `const` or the attribute.",
        );
    }
    let support = support_path();
    let ident = &func.sig.ident;
    let name_expr = match name {
        Some(lit) => quote!(#lit),
        None => {
            let fn_name = ident.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #fn_name))
        }
    };
    let span = func.block.span();
    let block = &func.block;
    let is_async = func.sig.asyncness.is_some();
    let enter = if is_async {
        quote!(enter_async)
    } else {
        quote!(enter)
    };
    let new_block: syn::Block = syn::parse2(quote_spanned! {span=>
        {
            let __rfm_perf_guard = {
                static __RFM_PERF_SITE: #support::ScopeSite = #support::ScopeSite::new(#name_expr);
                __RFM_PERF_SITE.#enter()
            };
            #block
        }
    })
    .expect("wrapping a parsed block yields a block");
    *func.block = new_block;
    quote!(#func).into()
}

fn with_error(item: TokenStream2, span: Span, msg: &str) -> TokenStream {
    let err = syn::Error::new(span, msg).to_compile_error();
    quote!(#err #item).into()
}

/// `::rfm_perf_core::__macro_support` or `::rfm_perf::__macro_support`, whichever the calling
/// crate depends on (renames respected). Both crates alias themselves with `extern crate self`,
/// so the path also resolves inside them.
fn support_path() -> TokenStream2 {
    for krate in ["rfm_perf_core", "rfm_perf"] {
        match crate_name(krate) {
            Ok(FoundCrate::Itself) => {
                let id = syn::Ident::new(krate, Span::call_site());
                return quote!(::#id::__macro_support);
            }
            Ok(FoundCrate::Name(n)) => {
                let id = syn::Ident::new(&n, Span::call_site());
                return quote!(::#id::__macro_support);
            }
            Err(_) => {}
        }
    }
    quote!(::rfm_perf_core::__macro_support)
}

/* SPDX-License-Identifier: MIT */
/* Boundary-tag allocator simulation on the pageheap "small" trace
 * (bench/target/bench.c generator, seed 1, 745 live, 1e6 measured ops).
 * 32-bit layout: 4 B header per chunk, chunk = max(16, round8(req+4)).
 * Modes: A = segregated exact bins (chunk sizes <= 520) LIFO + best fit above + top;
 *        B = address-ordered first fit over all free chunks + top;
 *        C<S> = A carved from S-byte arenas, no top; wholly-free arena released. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#define LIVE 745u
#define OPS 1000000u
#define MAX_SLOTS (2u*LIVE+64u)
static uint64_t rng_next(uint64_t *s){uint64_t z=(*s+=0x9E3779B97F4A7C15ull);
 z=(z^(z>>30))*0xBF58476D1CE4E5B9ull; z=(z^(z>>27))*0x94D049BB133111EBull; return z^(z>>31);}
static uint32_t rng_below(uint64_t *st,uint32_t n){uint64_t r=rng_next(st);
 uint64_t lo=(uint64_t)(uint32_t)r*n,hi=(r>>32)*n; return (uint32_t)((hi+(lo>>32))>>32);}

#define HG (1u<<20)            /* heap granules (8 MiB address space) */
#define NB 66                  /* bins 0..65 = size/8 exact (<=520); 65 = large */
#define LARGE 65
static uint32_t csz[HG];       /* chunk size in granules at chunk start */
static uint8_t  isfree[HG];
static uint32_t endfree[HG];   /* start+1 at last granule of a free chunk */
static uint32_t nx[HG], pv[HG];
static uint32_t head[NB];
static uint64_t fbits[HG/64];  /* free chunk starts, for B */
#define NIL 0xffffffffu
static int mode; static uint32_t AG; /* arena granules (C) */
static uint32_t top, hw;       /* granules */
static uint32_t narena, peak_arena; static uint8_t arena_used[HG];
static uint64_t c_exact, c_split, c_whole, c_grow, c_mallocs, c_frees, c_co[3], c_rel;

static int binof(uint32_t g){ return g<=65 ? (int)g : LARGE; } /* g granules: size g*8 */
static void fl_ins(uint32_t c){ uint32_t g=csz[c]; int b=binof(g);
 isfree[c]=1; endfree[c+g-1]=c+1; fbits[c>>6]|=1ull<<(c&63);
 pv[c]=NIL; nx[c]=head[b]; if(head[b]!=NIL) pv[head[b]]=c; head[b]=c; }
static void fl_del(uint32_t c){ uint32_t g=csz[c]; int b=binof(g);
 isfree[c]=0; endfree[c+g-1]=0; fbits[c>>6]&=~(1ull<<(c&63));
 if(pv[c]!=NIL) nx[pv[c]]=nx[c]; else head[b]=nx[c]; if(nx[c]!=NIL) pv[nx[c]]=pv[c]; }
/* carve need granules from free chunk c (already removed from lists) */
static uint32_t carve(uint32_t c,uint32_t need,bool count){
 uint32_t g=csz[c];
 if(g-need>=2){ csz[c]=need; uint32_t r=c+need; csz[r]=g-need; fl_ins(r); if(count)c_split++; }
 else if(count) c_whole++;
 return c; }
static uint32_t alloc_arena(void){ uint32_t a=0; while(arena_used[a]) a++;
 arena_used[a]=1; narena++; if(narena>peak_arena) peak_arena=narena;
 if((a+1)*AG>hw) hw=(a+1)*AG; uint32_t c=a*AG; csz[c]=AG; return c; }
static uint32_t do_malloc(uint32_t req){
 uint32_t bytes=(req+4+7)&~7u; if(bytes<16) bytes=16; uint32_t need=bytes/8;
 c_mallocs++;
 if(mode=='B'){ /* address-ordered first fit */
   for(uint32_t w=0; w<=(top>>6) && w<HG/64; w++){ uint64_t m=fbits[w];
     while(m){ uint32_t c=w*64+__builtin_ctzll(m); m&=m-1;
       if(csz[c]>=need){ fl_del(c); if(csz[c]==need) c_exact++; return carve(c,need,csz[c]!=need); } } }
 } else {
   int b=binof(need);
   if(b<LARGE && head[b]!=NIL){ uint32_t c=head[b]; fl_del(c); c_exact++; return c; }
   for(int k=b+1;k<LARGE;k++) if(head[k]!=NIL){ uint32_t c=head[k]; fl_del(c); return carve(c,need,true); }
   uint32_t best=NIL; for(uint32_t c=head[LARGE];c!=NIL;c=nx[c])
     if(csz[c]>=need && (best==NIL||csz[c]<csz[best]||(csz[c]==csz[best]&&c<best))) best=c;
   if(best!=NIL){ fl_del(best); if(csz[best]==need) c_exact++; return carve(best,need,csz[best]!=need); }
 }
 c_grow++;
 if(mode=='C'){ uint32_t c=alloc_arena(); return carve(c,need,false); }
 uint32_t c=top; top+=need; if(top>hw) hw=top; if(top>HG){fprintf(stderr,"heap overflow\n");exit(1);}
 csz[c]=need; return c; }
static void do_free(uint32_t c){
 uint32_t g=csz[c], n=0; c_frees++;
 uint32_t lo=0, hi=top; if(mode=='C'){ lo=c/AG*AG; hi=lo+AG; }
 if(c>lo && endfree[c-1]){ uint32_t p=endfree[c-1]-1; fl_del(p); csz[p]+=g; c=p; g=csz[c]; n++; }
 if(c+g<hi && isfree[c+g]){ uint32_t q=c+g; fl_del(q); csz[c]+=csz[q]; g=csz[c]; n++; }
 else if(mode!='C' && c+g==top){ top=c; c_co[n+1>2?2:n+1]++; return; }
 c_co[n]++;
 if(mode=='C' && g==AG){ arena_used[c/AG]=0; narena--; c_rel++; return; }
 fl_ins(c); }

int main(int argc,char**argv){
 if(argc<2){fprintf(stderr,"usage: sim A|B|C4096|C8192|...\n");return 2;}
 mode=argv[1][0]; if(mode=='C') AG=(uint32_t)atoi(argv[1]+1)/8;
 for(int i=0;i<NB;i++) head[i]=NIL;
 static uint32_t live[MAX_SLOTS],freeslot[MAX_SLOTS],size[MAX_SLOTS],ptr[MAX_SLOTS];
 uint64_t rng=1; uint32_t nlive=0,nfree=0,next_slot=0,lb=0,peak_lb=0,peak_obj=0;
 uint32_t hw_warm=0; uint64_t hw_at_peak_live=0;
 for(uint32_t i=0;i<LIVE+OPS;i++){
   bool measured=i>=LIVE, dm;
   if(!measured) dm=true; else { int64_t thr=((int64_t)1<<52)+((int64_t)LIVE-(int64_t)nlive)*((int64_t)1<<47);
     dm=nlive==0||(int64_t)(rng_next(&rng)>>11)<thr; }
   if(dm){ uint32_t sz=16+rng_below(&rng,512-16+1); uint32_t s=nfree?freeslot[--nfree]:next_slot++;
     size[s]=sz; live[nlive++]=s; lb+=sz; if(lb>peak_lb){peak_lb=lb;} if(nlive>peak_obj)peak_obj=nlive;
     ptr[s]=do_malloc(sz);
   } else { uint32_t k=rng_below(&rng,nlive); uint32_t s=live[k]; live[k]=live[--nlive]; freeslot[nfree++]=s;
     lb-=size[s]; do_free(ptr[s]); }
   if(i==LIVE-1) hw_warm=hw;
   (void)hw_at_peak_live;
 }
 double ext=(double)hw*8, r=ext/peak_lb, rb=ext*(1+1.0/64)/peak_lb;
 printf("%-7s peak_live=%u peak_obj=%u extent=%.0f (warmup %u) ratio=%.4f ratio+bitmap=%.4f",
   argv[1],peak_lb,peak_obj,ext,hw_warm*8,r,rb);
 if(mode=='C') printf(" peak_arenas=%u released=%llu",peak_arena,(unsigned long long)c_rel);
 printf("\n  mallocs=%llu exact=%.4f split=%.4f whole-larger=%.4f grow=%.4f | frees=%llu coalesce0=%.4f 1=%.4f 2=%.4f\n",
   (unsigned long long)c_mallocs,(double)c_exact/c_mallocs,(double)c_split/c_mallocs,(double)c_whole/c_mallocs,
   (double)c_grow/c_mallocs,(unsigned long long)c_frees,(double)c_co[0]/c_frees,(double)c_co[1]/c_frees,(double)c_co[2]/c_frees);
 return 0; }

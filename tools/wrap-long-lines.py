#!/usr/bin/env python3
# The long-line wrapping of the Style commit, kept so it can be redone (for example after merging
# branches): python3 tools/wrap-long-lines.py 150 [files...] (default: every tracked .cs file),
# then `dotnet format Portal.sln --no-restore`. What it cannot wrap safely it lists, for a person.
# Wraps C# lines longer than LIMIT at places where a line break cannot change meaning:
# after a comma, before =>, &&, ||, ??, ?, :, +, or a member access, outside strings; as a last
# resort, splits a string literal in two at a space ("a b" -> "a " + "b"). Lines inside raw or
# verbatim multi-line strings are left alone (reported).
import sys,re,subprocess
LIMIT=int(sys.argv[1]) if len(sys.argv)>1 else 150
files=sys.argv[2:] or subprocess.check_output(['git','ls-files','*.cs'],text=True).split()

def scan(line):
    """Returns list of (index, kind) break candidates at depth info, and string spans [(start,end,kind)] for top-level literals."""
    cands=[]; strings=[]
    i=0; n=len(line); depth=0
    # A line that closes a raw string ('""", new { ... }') is code after the quotes.
    if line.lstrip().startswith('"""'): i=len(line)-len(line.lstrip())+3
    while i<n:
        c=line[i]
        if line.startswith('//',i): break
        if line.startswith('"""',i) or (c in '$@' and '"""' in line[i:i+4] and line[i:i+4].lstrip('$@').startswith('"""')):
            # single-line raw string: find closing
            j=line.find('"""',i+line[i:].find('"""')+3)
            if j<0: return cands,strings,False
            i=j+3; continue
        if c=="'":
            j=i+1
            while j<n and line[j]!="'":
                j+= 2 if line[j]=='\\' else 1
            i=j+1; continue
        if c=='"' or (c in '$@' and i+1<n and (line[i+1]=='"' or (line[i+1] in '$@' and i+2<n and line[i+2]=='"'))):
            start=i; pre=''
            while line[i] in '$@': pre+=line[i]; i+=1
            interp='$' in pre; verb='@' in pre
            i+=1; hole=0
            while i<n:
                ch=line[i]
                if hole>0:
                    if ch=='{': hole+=1
                    elif ch=='}': hole-=1
                    elif ch=='"':
                        # nested simple string inside hole
                        i+=1
                        while i<n and line[i]!='"':
                            i+= 2 if line[i]=='\\' else 1
                    i+=1; continue
                if interp and ch=='{':
                    if i+1<n and line[i+1]=='{': i+=2; continue
                    hole=1; i+=1; continue
                if interp and ch=='}' and i+1<n and line[i+1]=='}': i+=2; continue
                if not verb and ch=='\\': i+=2; continue
                if ch=='"':
                    if verb and i+1<n and line[i+1]=='"': i+=2; continue
                    break
                i+=1
            if i>=n: return cands,strings,False  # unterminated: multi-line verbatim
            strings.append((start,i+1,pre))
            i+=1; continue
        if c in '([{<': depth+= 1 if c!='<' else 0
        if c in ')]}': depth-=1
        if c==',' and i+1<n and line[i+1]==' ': cands.append((i+1,'comma',depth))
        for op in (' => ',' && ',' || ',' ?? ',' ? ',' : ',' + '):
            if line.startswith(op,i): cands.append((i,'op'+op.strip(),depth))
        if c=='.' and i>0 and line[i-1] in ')]' and i+1<n and line[i+1].isalpha(): cands.append((i,'dot',depth))
        i+=1
    return cands,strings,True

def wrap_code(line):
    indent=len(line)-len(line.lstrip())
    cont=' '*(indent+4)
    out=[]; cur=line; first=True
    for _ in range(20):
        if len(cur)<=LIMIT: out.append(cur); return out
        cands,strings,ok=scan(cur)
        if not ok: return None
        lead=len(cur)-len(cur.lstrip())
        good=[c for c in cands if lead+8 < c[0] <= LIMIT]
        if good:
            # prefer the shallowest depth, then the rightmost
            mind=min(c[2] for c in good)
            pos,kind,_=max([c for c in good if c[2]==mind], key=lambda c:c[0])
            if kind=='comma':
                a=cur[:pos].rstrip(); b=cur[pos:].lstrip()
            else:
                a=cur[:pos].rstrip(); b=cur[pos:].lstrip()
            out.append(a); cur=cont+b; continue
        # split a string literal that crosses the limit at a space
        split=False
        for (s,e,pre) in strings:
            if s < LIMIT < e and 'r' not in pre:
                body=cur[s+len(pre)+1:e-1]
                limit_in=LIMIT-(s+len(pre)+1)-3
                # a space outside interpolation holes, escapes
                best=None; hole=0; k=0
                while k<len(body) and k<limit_in:
                    ch=body[k]
                    if '$' in pre and ch=='{' :
                        if k+1<len(body) and body[k+1]=='{': k+=2; continue
                        hole+=1
                    elif '$' in pre and ch=='}' and hole>0: hole-=1
                    elif ch=='\\' and '@' not in pre: k+=2; continue
                    elif ch==' ' and hole==0 and k>10: best=k
                    k+=1
                if best is None: continue
                q=pre+'"'
                a=cur[:s]+q+body[:best+1]+'" +'
                b=cont+q+body[best+1:]+'"'+cur[e:]
                out.append(a); cur=b; split=True; break
        if not split: return None
    return None

def wrap_comment(line):
    m=re.match(r'^(\s*(?:///|//)\s?)(.*)$',line)
    prefix,text=m.group(1),m.group(2)
    words=text.split(' '); out=[]; cur=prefix
    for w in words:
        if len(cur)+len(w)+1>LIMIT and cur.strip() not in ('//','///'):
            out.append(cur.rstrip()); cur=prefix
        cur+=(w if cur==prefix else ' '+w)
    out.append(cur.rstrip())
    return out

left=[]
for f in files:
    text=open(f).read(); lines=text.split('\n'); res=[]; inraw=False; changed=False
    for idx,l in enumerate(lines):
        was=inraw
        if l.count('"""')%2==1: inraw=not inraw
        closing = was and not inraw and l.lstrip().startswith('"""') and l.count('"""') == 1
        if len(l)<=LIMIT or (was and not closing):
            if len(l)>LIMIT: left.append(f'{f}:{idx+1}: in a raw string')
            res.append(l); continue
        if l.strip().startswith('//'):
            res.extend(wrap_comment(l)); changed=True; continue
        if '"""' in l and not closing:
            left.append(f'{f}:{idx+1}: opens a raw string'); res.append(l); continue
        w=wrap_code(l)
        if w is None: left.append(f'{f}:{idx+1}: no safe break'); res.append(l); continue
        res.extend(w); changed=True
    if changed: open(f,'w').write('\n'.join(res))
print(len(left),'left'); print('\n'.join(left))

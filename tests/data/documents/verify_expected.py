# Independent check of tests/data/documents/*.expected.jsonl against the fixtures, with Python's xml, json and
# datetime (not our parsers): python3 tests/data/documents/verify_expected.py  -> "mismatches 0".
import json, re, datetime, glob, os, xml.etree.ElementTree as ET
import sys
E=os.path.dirname(os.path.abspath(__file__)); F=sys.argv[1] if len(sys.argv) > 1 else os.path.join(E, '../../../../shared/fixtures/documents')
def load(n): return [json.loads(l) for l in open(f'{E}/{n}')]
def ns(iso): return int(datetime.datetime.fromisoformat(iso.replace('Z','+00:00')).timestamp())*10**9
bad=0
def check(c,msg):
  global bad
  if not c: bad+=1; print('MISMATCH',msg)
A='{http://www.w3.org/2005/Atom}'
tick={}
for v in json.load(open(f'{F}/sec/company_tickers_first25_excerpt.json')).values(): tick.setdefault(v['cik_str'],[]).append(v['ticker'])
for p in ['start0','start100','start5000']:
  root=ET.parse(f'{F}/sec/getcurrent_atom_{p}.xml').getroot(); groups={}
  for e in root.findall(A+'entry'):
    acc=e.find(A+'id').text.split('accession-number=')[1]; groups.setdefault(acc,[]).append(e)
  docs=load(f'getcurrent_atom_{p}.expected.jsonl'); check(len(docs)==len(groups),p)
  for d,(acc,es) in zip(docs,groups.items()):
    check(d['native_id']==acc and d['id']=='sec:'+acc, acc)
    check(d['published_at_ns']==ns(es[0].find(A+'updated').text),acc+' time')
    form=es[0].find(A+'category').get('term'); check(d['fields']['form']==form,acc+' form')
    subj=[e for e in es if re.search(r'\((Issuer|Subject|Filer)\)\s*$',e.find(A+'title').text)] or es
    t=subj[0].find(A+'title').text; name=re.match(re.escape(form)+r' - (.*) \(\d+\) \(\w[^)]*\)\s*$',t).group(1)
    check(d['title']==f'{form} - {name}',acc+' title '+d['title']+' vs '+name)
    check(d['url']==subj[0].find(A+'link').get('href'),acc+' url')
    ciks=sorted(int(re.search(r'\((\d+)\) \([^)]*\)\s*$',e.find(A+'title').text).group(1)) for e in es)
    check(sorted(int(c) for c in d['fields']['ciks'].split(','))==ciks,acc+' ciks')
    check(d['symbols']==sorted(set(sum((tick.get(c,[]) for c in ciks),[]))),acc+' symbols')
for f in glob.glob(f'{E}/submissions_*.jsonl'):
  n=os.path.basename(f).split('.')[0]; s=json.load(open(f'{F}/sec/{n}.json')); r=s['filings']['recent']; docs=load(os.path.basename(f))
  if 'first3' not in f: check(len(docs)==len(r['accessionNumber']),n)
  for i,d in enumerate(docs):
    acc=r['accessionNumber'][i]; check(d['native_id']==acc,n)
    check(d['published_at_ns']==ns(r['acceptanceDateTime'][i]),n+' time')
    check(d['url']==f"https://www.sec.gov/Archives/edgar/data/{int(s['cik'])}/{acc.replace('-','')}/{r['primaryDocument'][i]}",n+' url')
    check(d['symbols']==sorted(s['tickers']) and d['fields']['form']==r['form'][i] and d['title']==r['form'][i]+' - '+s['name'],n+' sym/form')
for f in [x for x in glob.glob(f'{E}/*news*.jsonl') if 'rss' not in x]:
  n=os.path.basename(f).split('.')[0]; src=[x for x in glob.glob(f'{F}/alpaca_news/{n}.*')][0]
  txt=open(src).read(); arts=[]
  for line in (txt.splitlines() if src.endswith('.jsonl') else [txt]):
    o=json.loads(line); o=o if isinstance(o,list) else (o['news'] if 'news' in o else [o]); arts+= [a for a in o if a.get('T','n')=='n']
  docs=load(os.path.basename(f)); check(len(docs)==len(arts),n)
  for d,a in zip(docs,arts):
    check(d['native_id']==str(a['id']) and d['published_at_ns']==ns(a['created_at']) and d['revision']==ns(a['updated_at']),n+' id/time')
    check(d['symbols']==sorted(a['symbols']) and d['url']==a.get('url','') and d['fields'].get('author')==a['author'],n+' sym/url')
    check(d['title']==a['headline'],n+' title')
root=ET.parse(f'{F}/feeds/rss2_yahoo_news_2021-05-28.xml').getroot(); items=root.find('channel').findall('item'); docs=load('rss2_yahoo_news_2021-05-28.expected.jsonl')
check(len(docs)==len(items)==50,'rss count')
for d,it in zip(docs,items):
  check(d['native_id']=='yahoo/'+it.find('guid').text and d['url']==it.find('link').text and d['title']==it.find('title').text,'rss id')
  check(d['published_at_ns']==ns(it.find('pubDate').text) and d['fields']['publisher']==it.find('source').text,'rss time')
for f in glob.glob(f'{E}/*nnouncement*.jsonl'):
  n=os.path.basename(f).split('.')[0]; o=json.load(open(f'{F}/cninfo/{n}.json')); anns=o['announcements'] if 'announcements' in o else [o]; docs=load(os.path.basename(f))
  check(len(docs)==len(anns),n)
  for d,a in zip(docs,anns):
    suf={'6':'SH','0':'SZ','3':'SZ'}[a['secCode'][0]]
    check(d['native_id']==a['announcementId'] and d['symbols']==[a['secCode']+'.'+suf],n+' id')
    check(d['published_at_ns']==a['announcementTime']*10**6 and d['url']=='http://static.cninfo.com.cn/'+a['adjunctUrl'],n+' time')
    check(d['title']==re.sub('</?em>','',a['announcementTitle']),n+' title')
    day=datetime.datetime.fromtimestamp(a['announcementTime']/1000,datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
    check(d['fields']['disclosure_date']==day and a['adjunctUrl'].startswith('finalpage/'+day),n+' date')
print('mismatches',bad)
